// Package helm holds the Gatehouse Helm chart (./gatehouse) and its test,
// which renders it with the repository's pinned Helm (`go tool helm`) and
// decodes every manifest strictly into its typed Kubernetes struct.
package helm
