package auth

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswords are the 10,000 most common passwords, most common first,
// from the MIT-licensed @zxcvbn-ts/language-common 4.1.3 (itself from the
// xato 10-million-password corpus). ASVS 6.2.4 asks that they be refused.
//
//go:embed commonpasswords.txt
var commonPasswords string

var commonSet = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, p := range strings.Split(commonPasswords, "\n") {
		if p != "" {
			m[p] = struct{}{}
		}
	}
	return m
})

// IsCommonPassword reports whether pw (compared in lower case) is one of the
// 10,000 most common passwords.
func IsCommonPassword(pw string) bool {
	_, ok := commonSet()[strings.ToLower(pw)]
	return ok
}
