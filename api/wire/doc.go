// Package wire is what every route family shares: the one mapping from errors
// to HTTP statuses and Medusa's JSON error bodies, the handler adapter that
// lets handlers return errors, strict JSON binding, and list parameters. It
// imports the root gatehouse package and observability only.
package wire
