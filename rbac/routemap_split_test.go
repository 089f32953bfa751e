package rbac

import (
	"slices"
	"strings"
	"testing"
)

// TestSplitPath: splitPath gives strings.Split's segments of the trimmed
// path, past the stack buffer too.
func TestSplitPath(t *testing.T) {
	for _, p := range []string{"", "/", "/admin", "/admin/users/", "//admin//users", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s"} {
		var buf [4]string
		got := splitPath(p, buf[:0])
		want := strings.Split(strings.Trim(p, "/"), "/")
		if !slices.Equal(got, want) {
			t.Errorf("splitPath(%q) = %q, want %q", p, got, want)
		}
	}
}
