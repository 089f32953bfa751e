package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/oklog/ulid/v2"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/signingkey"
	"github.com/gatehousehq/gatehouse/seal"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Signing algorithms a tenant may choose.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	AlgHS256 = "HS256"
)

// KeysChannel announces key rotations so every node reloads the tenant's keys.
const KeysChannel = "keys:changed"

// signingKey is a decrypted key, ready to sign or verify.
type signingKey struct {
	id          string
	method      jwt.SigningMethod
	private     any // crypto.Signer, or []byte for HS256
	public      any // the verification key
	status      signingkey.Status
	verifyUntil *time.Time
}

type keySet struct {
	active *signingKey
	byKID  map[string]*signingKey
	loaded time.Time
}

// Keys holds each tenant's signing keys: created with the tenant, encrypted at
// rest under the master key, cached in process and reloaded on rotation.
type Keys struct {
	db     *ent.Client
	box    *seal.Box
	cache  *lru.Cache[string, *keySet]
	bus    tenants.Bus
	maxTTL time.Duration
	stop   func()
}

// NewKeys returns the key manager. masterKey must hold at least 32 bytes of
// secret; maxTokenTTL bounds how long a retired key keeps verifying.
func NewKeys(db *ent.Client, masterKey []byte, bus tenants.Bus, maxTokenTTL time.Duration, cacheSize int) (*Keys, error) {
	if len(masterKey) < 32 {
		return nil, errors.New("master key: need at least 32 bytes")
	}
	box, err := seal.New(masterKey, "gatehouse signing keys v1")
	if err != nil {
		return nil, err
	}
	if cacheSize <= 0 {
		cacheSize = 10000
	}
	cache, _ := lru.New[string, *keySet](cacheSize)
	return &Keys{db: db, box: box, cache: cache, bus: bus, maxTTL: maxTokenTTL}, nil
}

// Start subscribes to rotations made on other nodes.
func (k *Keys) Start(ctx context.Context) error {
	if k.bus == nil {
		return nil
	}
	stop, err := k.bus.Subscribe(ctx, KeysChannel, func(tenantID string) { k.cache.Remove(tenantID) })
	if err != nil {
		return fmt.Errorf("subscribe to key changes: %w", err)
	}
	k.stop = stop
	return nil
}

// Close stops the subscription.
func (k *Keys) Close() {
	if k.stop != nil {
		k.stop()
	}
}

// Create makes the keys of a new tenant in ctx with db (a transaction client
// during tenant creation): the active key, and the next one, published in the
// JWKS from the start so that the next rotation signs with a key verifiers
// have already fetched. Both rows go in one INSERT: this runs on every tenant
// creation.
func (k *Keys) Create(ctx context.Context, db *ent.Client, alg string) error {
	active, err := k.newKey(ctx, db, alg, signingkey.StatusActive)
	if err != nil {
		return err
	}
	next, err := k.newKey(ctx, db, alg, signingkey.StatusNext)
	if err != nil {
		return err
	}
	if err := db.SigningKey.CreateBulk(active, next).Exec(ctx); err != nil {
		return fmt.Errorf("create signing keys: %w", err)
	}
	return nil
}

func (k *Keys) createKey(ctx context.Context, db *ent.Client, alg string, status signingkey.Status) error {
	c, err := k.newKey(ctx, db, alg, status)
	if err != nil {
		return err
	}
	if err := c.Exec(ctx); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// newKey generates a key of alg for the tenant in ctx and returns its row,
// sealed under the master key, ready to insert.
func (k *Keys) newKey(ctx context.Context, db *ent.Client, alg string, status signingkey.Status) (*ent.SigningKeyCreate, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	if alg == "" {
		alg = AlgEdDSA
	}
	priv, pub, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	id := newID("key")
	sealed, err := k.box.Seal(priv, []byte(tenantID+"/"+id))
	if err != nil {
		return nil, err
	}
	return db.SigningKey.Create().SetID(id).SetAlgorithm(alg).SetPrivateKey(sealed).SetPublicKey(pub).
		SetStatus(status), nil
}

// ErrKeyStaged is returned by Rotate when it could only publish the next key
// (none was published yet, or the algorithm changes): signing moves to it on
// the next Rotate, once verifiers have refreshed their JWKS caches (5 minutes
// is common), or at once with force.
var ErrKeyStaged = errors.New("auth: the next signing key is published; rotate again once JWKS caches have refreshed, or force")

// Rotate moves signing to the tenant's next key, which has been in the JWKS
// since the previous rotation (checklist 9), and publishes a new next key.
// The previous active keys retire but keep verifying until every token they
// signed has expired. alg "" keeps the algorithm; another algorithm, or a
// tenant without a next key, first publishes one (ErrKeyStaged) unless force.
func (k *Keys) Rotate(ctx context.Context, alg string, force bool) error {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return tenants.ErrNoTenant
	}
	next, err := k.db.SigningKey.Query().Where(signingkey.StatusEQ(signingkey.StatusNext)).
		Order(ent.Desc(signingkey.FieldCreatedAt)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("rotate: %w", err)
	}
	if alg == "" {
		if next != nil {
			alg = next.Algorithm
		} else if cur, err := k.db.SigningKey.Query().Where(signingkey.StatusEQ(signingkey.StatusActive)).
			Order(ent.Desc(signingkey.FieldCreatedAt)).First(ctx); err == nil {
			alg = cur.Algorithm
		} else if !ent.IsNotFound(err) {
			return fmt.Errorf("rotate: %w", err)
		}
	}
	promote := next != nil && next.Algorithm == alg
	tx, err := k.db.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	switch {
	case promote || force:
		until := time.Now().Add(k.maxTTL + time.Minute)
		if _, err := tx.SigningKey.Update().Where(signingkey.StatusEQ(signingkey.StatusActive)).
			SetStatus(signingkey.StatusRetired).SetVerifyUntil(until).Save(ctx); err != nil {
			return fmt.Errorf("retire keys: %w", err)
		}
		if promote {
			if err := tx.SigningKey.UpdateOne(next).SetStatus(signingkey.StatusActive).Exec(ctx); err != nil {
				return fmt.Errorf("promote next key: %w", err)
			}
		} else {
			if _, err := tx.SigningKey.Delete().Where(signingkey.StatusEQ(signingkey.StatusNext)).Exec(ctx); err != nil {
				return fmt.Errorf("drop next keys: %w", err)
			}
			if err := k.createKey(ctx, tx.Client(), alg, signingkey.StatusActive); err != nil {
				return err
			}
		}
		if err := k.createKey(ctx, tx.Client(), alg, signingkey.StatusNext); err != nil {
			return err
		}
	default:
		if _, err := tx.SigningKey.Delete().Where(signingkey.StatusEQ(signingkey.StatusNext)).Exec(ctx); err != nil {
			return fmt.Errorf("drop next keys: %w", err)
		}
		if err := k.createKey(ctx, tx.Client(), alg, signingkey.StatusNext); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	k.cache.Remove(tenantID)
	if k.bus != nil {
		_ = k.bus.Publish(ctx, KeysChannel, tenantID)
	}
	if !promote && !force {
		return ErrKeyStaged
	}
	return nil
}

func (k *Keys) set(ctx context.Context) (*keySet, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	if s, ok := k.cache.Get(tenantID); ok {
		return s, nil
	}
	rows, err := k.db.SigningKey.Query().Order(ent.Asc(signingkey.FieldCreatedAt)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	s := &keySet{byKID: map[string]*signingKey{}, loaded: time.Now()}
	now := time.Now()
	for _, r := range rows {
		if r.Status == signingkey.StatusRetired && r.VerifyUntil != nil && r.VerifyUntil.Before(now) {
			continue
		}
		sk, err := k.open(tenantID, r)
		if err != nil {
			return nil, err
		}
		s.byKID[r.ID] = sk
		if r.Status == signingkey.StatusActive {
			s.active = sk
		}
	}
	if s.active == nil {
		return nil, fmt.Errorf("tenant %s has no active signing key", tenantID)
	}
	k.cache.Add(tenantID, s)
	return s, nil
}

// lookup returns the key kid of the tenant in ctx. A kid this node does not
// know reloads the tenant's keys only when the kid (a ULID) was made after
// the keys were loaded and not in the future — the node missed a rotation
// message — so arbitrary made-up kids do not turn into queries.
func (k *Keys) lookup(ctx context.Context, kid string) (*signingKey, error) {
	s, err := k.set(ctx)
	if err != nil {
		return nil, err
	}
	if sk, ok := s.byKID[kid]; ok {
		return sk, nil
	}
	id, err := ulid.ParseStrict(strings.TrimPrefix(kid, "key_"))
	if err != nil || !strings.HasPrefix(kid, "key_") {
		return nil, ErrInvalidToken
	}
	made := ulid.Time(id.Time())
	if !made.After(s.loaded.Add(-time.Second)) || made.After(time.Now().Add(5*time.Second)) {
		return nil, ErrInvalidToken
	}
	tenantID, _ := tenants.IDFromContext(ctx)
	k.cache.Remove(tenantID)
	if s, err = k.set(ctx); err != nil {
		return nil, err
	}
	if sk, ok := s.byKID[kid]; ok {
		return sk, nil
	}
	return nil, ErrInvalidToken
}

func (k *Keys) open(tenantID string, r *ent.SigningKey) (*signingKey, error) {
	raw, err := k.box.Open(r.PrivateKey, []byte(tenantID+"/"+r.ID))
	if errors.Is(err, seal.ErrMalformed) {
		return nil, fmt.Errorf("signing key %s: corrupt", r.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: cannot decrypt (wrong GATEHOUSE_MASTER_KEY?)", r.ID)
	}
	sk := &signingKey{id: r.ID, status: r.Status, verifyUntil: r.VerifyUntil}
	switch r.Algorithm {
	case AlgHS256:
		sk.method, sk.private, sk.public = jwt.SigningMethodHS256, raw, raw
		return sk, nil
	case AlgEdDSA:
		sk.method = jwt.SigningMethodEdDSA
	case AlgES256:
		sk.method = jwt.SigningMethodES256
	case AlgRS256:
		sk.method = jwt.SigningMethodRS256
	default:
		return nil, fmt.Errorf("signing key %s: unknown algorithm %q", r.ID, r.Algorithm)
	}
	p, err := x509.ParsePKCS8PrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", r.ID, err)
	}
	signer, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not a signer", r.ID)
	}
	sk.private, sk.public = signer, signer.Public()
	return sk, nil
}

func generateKey(alg string) (priv, pub []byte, err error) {
	var signer crypto.Signer
	switch alg {
	case AlgHS256:
		// RFC 8725 §3.5: a CSPRNG secret of the hash size, never a password.
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, nil, err
		}
		return secret, []byte{}, nil
	case AlgEdDSA:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	case AlgES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, nil, fmt.Errorf("unknown signing algorithm %q (want EdDSA, ES256, RS256 or HS256)", alg)
	}
	if err != nil {
		return nil, nil, err
	}
	priv, err = x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, nil, err
	}
	pub, err = x509.MarshalPKIXPublicKey(signer.Public())
	return priv, pub, err
}

// JWK is one public key of a JWKS document.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKS returns the public keys of the tenant in ctx that verify tokens now:
// the active key and retired keys whose tokens may still be live. HS256 keys
// are secret and never published.
func (k *Keys) JWKS(ctx context.Context) ([]JWK, error) {
	s, err := k.set(ctx)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	out := []JWK{}
	for _, sk := range s.byKID {
		j := JWK{Kid: sk.id, Alg: sk.method.Alg(), Use: "sig"}
		switch pub := sk.public.(type) {
		case ed25519.PublicKey:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
		case *ecdsa.PublicKey:
			ecdh, err := pub.ECDH()
			if err != nil {
				return nil, err
			}
			raw := ecdh.Bytes() // 0x04 || X || Y
			j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
		case *rsa.PublicKey:
			j.Kty, j.N, j.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
		default:
			continue
		}
		out = append(out, j)
	}
	return out, nil
}
