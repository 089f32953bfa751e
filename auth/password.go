package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is returned by Verify when the stored hash is not an
// argon2id PHC string this package can check, or when its parameters are
// outside the bounds below. Such a hash is corrupt or was written by something
// else; it is never a wrong password.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Bounds on the parameters Verify accepts from a stored hash. A stored hash is
// data, and a corrupt or planted one must not make a login allocate gigabytes
// or spin for minutes: argon2 allocates MemoryKiB up front.
const (
	maxMemoryKiB = 1 << 22 // 4 GiB
	maxTime      = 100
	maxThreads   = 64
	minSaltLen   = 8 // RFC 9106 §3.1
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// Argon2Params are the argon2id cost parameters (OWASP: m=19 MiB, t=2, p=1).
type Argon2Params struct {
	// MemoryKiB is the memory cost m, in KiB.
	MemoryKiB uint32
	// Time is the number of passes t over the memory.
	Time uint32
	// Threads is the parallelism p; it is part of the hash, so changing it
	// changes every hash.
	Threads uint8
	// SaltLen is the length of the random salt, in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key stored in the hash, in bytes.
	KeyLen uint32
}

// DefaultArgon2Params returns the OWASP Password Storage Cheat Sheet
// parameters for argon2id: m=19456 KiB, t=2, p=1, with a 16-byte salt and a
// 32-byte key.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports whether p is within the bounds Verify accepts, so that a
// configuration mistake is caught at startup rather than by NewHasher's panic
// or by hashes that can never be verified.
func (p Argon2Params) Validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("argon2 threads %d: want 1..%d", p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d: want 1..%d", p.Time, maxTime)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		// argon2 needs at least 8 KiB per lane (RFC 9106 §3.1).
		return fmt.Errorf("argon2 memory %d KiB: want %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2 salt length %d: want %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d: want %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use.
type Hasher struct {
	params Argon2Params
	// slots bounds how many hashes run at once. Each one holds MemoryKiB of
	// memory and a CPU for tens of milliseconds, so an unbounded login burst
	// would starve every other request and could exhaust memory.
	slots chan struct{}
	// dummy is a well-formed hash with h's params that no password matches;
	// VerifyDummy checks against it.
	dummy string
}

// NewHasher returns a Hasher that hashes new passwords with p. Hashing runs on
// a bounded pool of workers slots (workers <= 0 means runtime.GOMAXPROCS(0),
// the CPUs this process may use, which unlike runtime.NumCPU respects a
// container's CPU limit) so that a login burst cannot starve other requests;
// peak hashing memory is workers × p.MemoryKiB.
//
// NewHasher panics if p.Validate fails: parameters come from code or from
// configuration validated at startup, never from a request.
func NewHasher(p Argon2Params, workers int) *Hasher {
	if err := p.Validate(); err != nil {
		panic("auth.NewHasher: " + err.Error())
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// The dummy's salt and key are fixed (zero) bytes: the salt is public in
	// any stored hash anyway, and a zero key is never produced in practice, so
	// VerifyDummy cannot succeed.
	dummy := encodeHash(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	return &Hasher{params: p, slots: make(chan struct{}, workers), dummy: dummy}
}

// Hash returns password hashed with a fresh random salt, as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, both in unpadded standard
// base64. The password is used whole, never truncated. Hash returns ctx.Err()
// if ctx ends while waiting for a free slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	// Since Go 1.24 crypto/rand.Read never returns an error; it crashes the
	// program instead of handing out a weak salt.
	_, _ = rand.Read(salt)
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encodeHash(h.params, salt, key), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. needsRehash is true when ok is true and the hash was made
// with parameters other than h's current ones, so the caller should store a
// fresh Hash of the password it has just verified; it is never true for a
// wrong password. A wrong password is ok == false with a nil error.
//
// Verify returns an error wrapping ErrMalformedHash when encoded cannot be
// parsed or its parameters are out of bounds (it never panics on bad input),
// and ctx.Err() if ctx ends while waiting for a free slot.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy does the same work as Verify against a fixed dummy hash made
// with h's current parameters, and discards the result. Call it when the
// account does not exist so that an unknown email costs the same time as a
// known one and accounts cannot be enumerated by timing.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummy)
}

// derive runs argon2id on one pool slot. argon2.IDKey runs each segment of
// the memory in a goroutine of its own, even for p=1, so the hashing cannot be
// confined to a thread of lower priority: LockOSThread and a nice value on the
// calling goroutine would leave the work on ordinary threads.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	// Checked first because select picks at random when both a slot and
	// ctx.Done are ready, and a cancelled request should not start a hash.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

func encodeHash(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// decodeHash parses a PHC argon2id string strictly: exactly the fields Hash
// writes, in its order, and parameters within the bounds of Validate. The
// returned params carry the salt and key lengths found, so that Verify can
// compare them with the current ones.
func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, fmt.Errorf("%w: want parameters m,t,p", ErrMalformedHash)
	}
	m, err1 := parseParam(params[0], "m=", 32)
	t, err2 := parseParam(params[1], "t=", 32)
	threads, err3 := parseParam(params[2], "p=", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	salt, err = base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	key, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: key: %v", ErrMalformedHash, err)
	}
	p = Argon2Params{
		MemoryKiB: uint32(m),
		Time:      uint32(t),
		Threads:   uint8(threads),
		SaltLen:   uint32(len(salt)),
		KeyLen:    uint32(len(key)),
	}
	if err := p.Validate(); err != nil {
		return Argon2Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseParam parses "name=<decimal>" into an unsigned integer of bitSize bits.
func parseParam(s, name string, bitSize int) (uint64, error) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, fmt.Errorf("want %s…", name)
	}
	n, err := strconv.ParseUint(v, 10, bitSize)
	if err != nil {
		return 0, fmt.Errorf("parameter %s: not a %d-bit unsigned integer", name[:1], bitSize)
	}
	return n, nil
}
