package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehousehq/gatehouse/seal"
)

// SecretPrefix starts every signing secret as shown to its owner.
const SecretPrefix = "whsec_"

// sealer encrypts signing secrets at rest (package seal) under a key of its
// own label, never shared with the signing keys, MFA seeds or the API-key
// pepper.
type sealer struct{ box *seal.Box }

func newSealer(masterKey []byte) (*sealer, error) {
	b, err := seal.New(masterKey, "gatehouse webhook secret v1")
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return &sealer{box: b}, nil
}

// aad binds a sealed secret to its tenant and webhook: a row copied to
// another webhook does not open.
func aad(tenantID, webhookID string) []byte { return []byte(tenantID + "/" + webhookID) }

func (s *sealer) seal(tenantID, webhookID string, secret []byte) ([]byte, error) {
	return s.box.Seal(secret, aad(tenantID, webhookID))
}

func (s *sealer) open(tenantID, webhookID string, sealed []byte) ([]byte, error) {
	pt, err := s.box.Open(sealed, aad(tenantID, webhookID))
	if err != nil {
		return nil, fmt.Errorf("webhooks: open secret: %w", err)
	}
	return pt, nil
}

// newSecret returns a signing secret as shown to its owner: whsec_ and 32
// random bytes in unpadded base64url. The whole string is the HMAC key.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Sign returns the Gatehouse-Webhook-Signature value of body sent at ts:
// "v1=" and the hex HMAC-SHA256, keyed with the whole secret string
// (whsec_…), of the decimal Unix timestamp, ".", and the body.
func Sign(secret string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received delivery as a receiver should: the signature
// header (which may list several comma-separated v1= values during secret
// rotation) matches, in constant time, and the timestamp header is within
// tolerance of now. It is what the documentation's recipes do.
func Verify(secret, timestampHeader, signatureHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestampHeader, 10, 64)
	if err != nil {
		return errors.New("webhooks: bad timestamp header")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return errors.New("webhooks: timestamp outside tolerance")
	}
	want := []byte(Sign(secret, ts, body))
	for _, sig := range splitComma(signatureHeader) {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return errors.New("webhooks: signature mismatch")
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' || s[i] == ' ' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
