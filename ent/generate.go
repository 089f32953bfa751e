// Package ent is the generated Ent client of Gatehouse. The schema lives in
// ent/schema; regenerate with `go generate ./ent` (or `make generate`).
package ent

//go:generate go tool ent generate --feature intercept,sql/upsert,sql/execquery,sql/lock,sql/modifier --target . ./schema
