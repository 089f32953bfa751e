// Package web will hold the admin console, a single-page app built from this
// folder and embedded with go:embed. Not built yet (issue "Admin console").
package web
