// Package seal encrypts small secrets at rest — signing keys, TOTP seeds,
// webhook secrets — with AES-256-GCM under a key derived from the master key
// by HKDF with a label of its own per use, so no two uses share a key. A
// sealed value is the random nonce followed by the ciphertext; the caller's
// additional data binds it to its owner (a row copied elsewhere does not
// open).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrMalformed is returned by Open for a value too short to hold a nonce.
var ErrMalformed = errors.New("seal: malformed sealed value")

// Box seals and opens values under one derived key. It is safe for
// concurrent use.
type Box struct{ aead cipher.AEAD }

// New derives the key labelled label from masterKey.
func New(masterKey []byte, label string) (*Box, error) {
	if len(masterKey) == 0 {
		return nil, errors.New("seal: a master key is required")
	}
	k, err := hkdf.Key(sha256.New, masterKey, nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Box{aead: g}, nil
}

// Seal encrypts plaintext bound to aad: nonce || ciphertext.
func (b *Box) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same aad.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < ns {
		return nil, ErrMalformed
	}
	return b.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
}
