package wire

import (
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// QueryFields lists, by route ("METHOD /path" as Gin names it), the query
// parameters the route accepts. Medusa validates every route that reads a
// query with a strict zod schema, so a parameter it does not know (a typo, a
// filter it does not have) is a 400 rather than a filter silently ignored.
type QueryFields map[string][]string

// Select is the query of a Medusa route that returns one record
// (createSelectParams).
var Select = []string{"fields"}

// Find is the query every Medusa list accepts (createFindParams); a list
// adds its filters.
var Find = []string{"fields", "offset", "limit", "order", "with_deleted"}

// Fields returns Find (or Select) followed by a route's own parameters.
func Fields(base []string, own ...string) []string {
	return append(slices.Clip(base), own...)
}

// KnownQuery refuses a request to a route of table whose query names a
// parameter the route does not accept: Medusa's 400 "Invalid request:
// Unrecognized fields: 'a, b'", the unknown names in the order they came.
// A parameter is named by what precedes its first "[" or "." (id[0],
// created_at[$gt] and created_at.$gt are id and created_at). Routes missing
// from table read no query and accept any. Every route of table also
// accepts the names in also.
func KnownQuery(table QueryFields, also ...string) gin.HandlerFunc {
	sets := make(map[string]map[string]bool, len(table))
	for route, names := range table {
		set := make(map[string]bool, len(names)+len(also))
		for _, n := range slices.Concat(names, also) {
			set[n] = true
		}
		sets[route] = set
	}
	return func(c *gin.Context) {
		known, ok := sets[c.Request.Method+" "+c.FullPath()]
		if !ok || c.Request.URL.RawQuery == "" {
			c.Next()
			return
		}
		if unknown := unknownParams(c.Request.URL.RawQuery, known); len(unknown) > 0 {
			Render(c, Invalid("Unrecognized fields: '%s'", strings.Join(unknown, ", ")))
			return
		}
		c.Next()
	}
}

// unknownParams returns the parameter names of a raw query that known lacks,
// each once, in order.
func unknownParams(raw string, known map[string]bool) []string {
	var out []string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if u, err := url.QueryUnescape(k); err == nil {
			k = u
		}
		if i := strings.IndexAny(k, "[."); i >= 0 {
			k = k[:i]
		}
		if k != "" && !known[k] && !slices.Contains(out, k) { // qs drops empty names
			out = append(out, k)
		}
	}
	return out
}
