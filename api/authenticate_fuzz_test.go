package api

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/auth"
)

// testSK is a well-formed secret key.
const testSK = "sk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasicSecret(t *testing.T) {
	for _, tc := range []struct {
		h, want string
	}{
		{"Basic " + testSK, testSK},
		{"Basic " + testSK + ":", testSK},
		{"Basic " + b64(testSK), testSK},
		{"Basic " + b64(testSK+":"), testSK},
		{"basic " + b64(testSK+":"), testSK},
		{"BASIC  " + testSK + "  ", testSK},
		{"Basic " + testSK + "::", ""},
		{"Basic " + b64(testSK+"::"), ""},
		{"Bearer " + testSK, ""},
		{"Basic " + b64("user:"+testSK), ""},
		{"Basic " + b64("pk_abc:"), ""},
		{"Basic", ""},
		{"Basic ", ""},
		{"Basic :", ""},
		{"Basic !!!notbase64", ""},
		{"Basic " + strings.Repeat("A", 10<<10), ""},
		{testSK, ""},
		{"", ""},
	} {
		if got := ParseBasicSecret(tc.h); got != tc.want {
			t.Errorf("ParseBasicSecret(%.80q) = %q, want %q", tc.h, got, tc.want)
		}
	}
}

// FuzzParseBasicSecret checks that ParseBasicSecret never panics and returns
// either nothing or an sk_ token without Basic's trailing ':'.
func FuzzParseBasicSecret(f *testing.F) {
	hexKey := testSK[3:]
	for _, s := range []string{
		"", ":", "Basic", "Basic ", "Basic :", "Basic !!!notbase64",
		"Basic " + strings.Repeat("A", 10<<10),
		"Basic ñé✓", "Basic " + b64("ñé✓"), "\u00a0Basic\u00a0" + testSK,
		"basic sk_" + hexKey,
		"Basic " + testSK, "Basic " + testSK + ":",
		"Basic " + b64(testSK), "Basic " + b64(testSK+":"), "Basic " + b64(testSK+"::"),
		"Basic " + b64("sk_"), "Basic " + b64("sk_:"), "Basic " + b64(":"),
		"Basic " + b64("user:"+testSK), "Bearer " + testSK,
		"Basic\t" + testSK, "Basic " + testSK + " extra",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := ParseBasicSecret(h)
		if got == "" {
			return
		}
		if !strings.HasPrefix(got, "sk_") {
			t.Errorf("ParseBasicSecret(%q) = %q, want \"\" or an sk_ token", h, got)
		}
		if strings.HasSuffix(got, ":") {
			t.Errorf("ParseBasicSecret(%q) = %q, ends with ':'", h, got)
		}
		if again := ParseBasicSecret(h); again != got {
			t.Errorf("ParseBasicSecret(%q) = %q, then %q", h, got, again)
		}
	})
}

// FuzzValidKeyFormat checks that ValidKeyFormat only admits the prefix and 64
// lower-case hex digits.
func FuzzValidKeyFormat(f *testing.F) {
	for _, s := range []string{
		testSK, "pk_" + testSK[3:], "", "sk_", "sk_" + strings.ToUpper(testSK[3:]),
		testSK + "0", testSK[:66], "sk_" + strings.Repeat("g", 64), "sk_" + strings.Repeat("ñ", 32),
		"sk_" + strings.Repeat("0", 63) + "\x00", "xx_" + testSK[3:],
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, secret bool) {
		prefix := "pk_"
		if secret {
			prefix = "sk_"
		}
		if !auth.ValidKeyFormat(raw, prefix) {
			return
		}
		if len(raw) != 67 || !strings.HasPrefix(raw, prefix) {
			t.Fatalf("ValidKeyFormat(%q, %q) = true, want a %s key of 67 bytes", raw, prefix, prefix)
		}
		for i := len(prefix); i < len(raw); i++ {
			if c := raw[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				t.Fatalf("ValidKeyFormat(%q, %q) = true with byte %q at %d", raw, prefix, c, i)
			}
		}
	})
}
