package wire

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// errNUL refuses text with a NUL character, which PostgreSQL cannot store in
// a text column (it would fail the query: a 500).
var errNUL = Invalid("Text may not contain the NUL character (\\u0000)")

var errQuery = Invalid("The query must be UTF-8 text without NUL characters")

// escapedNUL reports whether a JSON document holds the escape \u0000 (a
// backslash-escaped backslash followed by "u0000" is plain text). Raw NUL
// bytes are not valid JSON and fail decoding anyway.
func escapedNUL(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		slashes := 0
		for k := at - 1; k >= 0 && b[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 0 {
			return true
		}
		i = at + 1
	}
}

// TextSafe refuses a request whose path or query holds a NUL character or
// bytes that are not UTF-8 (decoded, as handlers see them), or whose body
// holds the JSON escape of a NUL: PostgreSQL rejects both in a text column,
// so they would otherwise reach a query and fail it with a 500. (A JSON
// decoder already replaces bytes that are not UTF-8 in a body.) The body's
// first MaxBody+1 bytes are read and put back in front of the rest, so
// handlers read it whole and apply their own limits.
func TextSafe() gin.HandlerFunc {
	return func(c *gin.Context) {
		// A body declared larger than MaxBody is refused by whoever reads it
		// (413), unscanned.
		if body := c.Request.Body; body != nil && body != http.NoBody && c.Request.ContentLength != 0 && c.Request.ContentLength <= MaxBody {
			head, err := io.ReadAll(io.LimitReader(body, MaxBody+1))
			c.Request.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), body), body}
			if err == nil && escapedNUL(head) {
				Render(c, errNUL)
				return
			}
		}
		if !safeText(c.Request.URL.Path) {
			Render(c, Invalid("The path must be UTF-8 text without NUL characters"))
			return
		}
		// Only an escaped query can decode to a NUL or to bytes that are not
		// UTF-8 that it does not already hold: the common one is checked
		// as it is, not parsed a second time (Gin parses it for handlers).
		if raw := c.Request.URL.RawQuery; !strings.ContainsRune(raw, '%') {
			if !safeText(raw) {
				Render(c, errQuery)
				return
			}
		} else {
			vs, _ := url.ParseQuery(raw)
			for k, v := range vs {
				if !safeText(k) || slices.ContainsFunc(v, func(s string) bool { return !safeText(s) }) {
					Render(c, errQuery)
					return
				}
			}
		}
		c.Next()
	}
}

func safeText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
