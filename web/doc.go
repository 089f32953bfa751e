// Package web holds the admin console: a React single-page app built from this
// folder (npm + Vite: `make web`, scripts/web.sh) into dist/, which is
// embedded in the binary. A fresh clone has only dist/README.txt, so the Go
// build never needs Node; the server then answers the console's routes with a
// page saying how to build it. It imports none of our packages; api serves it.
package web
