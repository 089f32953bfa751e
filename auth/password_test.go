package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cheapParams keep the tests fast; the hashing code does not depend on cost.
var cheapParams = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 0)
	tests := []struct {
		name     string
		password string
	}{
		{"ascii", "correct horse battery staple"},
		{"empty", ""},
		{"unicode", "pässwörd-密码-🔑"},
		{"nul bytes", "a\x00b\x00c"},
		{"long", strings.Repeat("x", 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := h.Hash(t.Context(), tt.password)
			if err != nil {
				t.Fatalf("Hash(%q) error = %v", tt.name, err)
			}
			ok, rehash, err := h.Verify(t.Context(), tt.password, encoded)
			if !ok || rehash || err != nil {
				t.Errorf("Verify(right password, %q) = %v, %v, %v, want true, false, nil", encoded, ok, rehash, err)
			}
			ok, rehash, err = h.Verify(t.Context(), tt.password+"!", encoded)
			if ok || rehash || err != nil {
				t.Errorf("Verify(wrong password, %q) = %v, %v, %v, want false, false, nil", encoded, ok, rehash, err)
			}
		})
	}
}

func TestHashFormat(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 1)
	a, err := h.Hash(t.Context(), "secret")
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	const prefix = "$argon2id$v=19$m=64,t=1,p=1$"
	if !strings.HasPrefix(a, prefix) {
		t.Fatalf("Hash() = %q, want prefix %q", a, prefix)
	}
	fields := strings.Split(strings.TrimPrefix(a, prefix), "$")
	if len(fields) != 2 {
		t.Fatalf("Hash() = %q, want salt$key after the parameters", a)
	}
	for i, want := range []int{int(cheapParams.SaltLen), int(cheapParams.KeyLen)} {
		b, err := base64.RawStdEncoding.DecodeString(fields[i])
		if err != nil || len(b) != want {
			t.Errorf("Hash() field %q decodes to %d bytes, %v; want %d bytes of unpadded base64", fields[i], len(b), err, want)
		}
	}

	// A fresh salt per call: equal passwords must not give equal hashes.
	b, err := h.Hash(t.Context(), "secret")
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	if a == b {
		t.Errorf("Hash(same password) twice = %q both times, want different salts", a)
	}
}

// TestHashDefaultParams runs the real OWASP cost once, so that the defaults
// are known to be accepted by argon2 and by our own bounds.
func TestHashDefaultParams(t *testing.T) {
	t.Parallel()
	h := NewHasher(DefaultArgon2Params(), 0)
	encoded, err := h.Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(encoded, want) {
		t.Errorf("Hash() = %q, want prefix %q", encoded, want)
	}
	ok, rehash, err := h.Verify(t.Context(), "correct horse battery staple", encoded)
	if !ok || rehash || err != nil {
		t.Errorf("Verify(%q) = %v, %v, %v, want true, false, nil", encoded, ok, rehash, err)
	}
}

// TestPasswordNoTruncation is security checklist item 23: bcrypt silently
// ignores everything after byte 72, argon2 must not.
func TestPasswordNoTruncation(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 0)
	a := strings.Repeat("a", 80)
	b := strings.Repeat("a", 79) + "b"
	encoded, err := h.Hash(t.Context(), a)
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	if ok, _, err := h.Verify(t.Context(), b, encoded); ok || err != nil {
		t.Errorf("Verify(password differing at byte 80, hash of other) = %v, %v, want false, nil", ok, err)
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		old  Argon2Params
	}{
		{"same params", cheapParams},
		{"memory", Argon2Params{MemoryKiB: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"time", Argon2Params{MemoryKiB: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"threads", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"salt length", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32}},
		{"key length", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}},
	}
	current := NewHasher(cheapParams, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			encoded, err := NewHasher(tt.old, 0).Hash(t.Context(), "pw")
			if err != nil {
				t.Fatalf("Hash error = %v", err)
			}
			wantRehash := tt.old != cheapParams
			ok, rehash, err := current.Verify(t.Context(), "pw", encoded)
			if !ok || rehash != wantRehash || err != nil {
				t.Errorf("Verify(%q) = %v, %v, %v, want true, %v, nil", encoded, ok, rehash, err, wantRehash)
			}
			// A wrong password never asks for a rehash: the caller would
			// store a hash of the wrong password.
			ok, rehash, err = current.Verify(t.Context(), "wrong", encoded)
			if ok || rehash || err != nil {
				t.Errorf("Verify(wrong, %q) = %v, %v, %v, want false, false, nil", encoded, ok, rehash, err)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 0)
	good, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	salt, key := parts[4], parts[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }

	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"dollar only", "$"},
		{"plain text", "pw"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", strings.Replace(good, "$argon2id$", "$argon2i$", 1)},
		{"argon2d", strings.Replace(good, "$argon2id$", "$argon2d$", 1)},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", strings.Replace(good, "$v=19$", "$v=16$", 1)},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", good + "$x"},
		{"params out of order", with("t=1,m=64,p=1")},
		{"missing param", with("m=64,t=1")},
		{"extra param", with("m=64,t=1,p=1,k=1")},
		{"empty param value", with("m=,t=1,p=1")},
		{"negative param", with("m=-64,t=1,p=1")},
		{"signed param", with("m=+64,t=1,p=1")},
		{"hex param", with("m=0x40,t=1,p=1")},
		{"space in param", with("m= 64,t=1,p=1")},
		{"huge memory", with("m=99999999,t=1,p=1")},
		{"memory just over cap", with("m=4194305,t=1,p=1")},
		{"memory overflows uint32", with("m=4294967296,t=1,p=1")},
		{"memory below 8 per lane", with("m=15,t=1,p=2")},
		{"zero time", with("m=64,t=0,p=1")},
		{"time over cap", with("m=64,t=101,p=1")},
		{"zero threads", with("m=64,t=1,p=0")},
		{"threads over cap", with("m=1024,t=1,p=65")},
		{"threads overflow uint8", with("m=4096,t=1,p=256")},
		{"bad base64 salt", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"bad base64 key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$%%%%"},
		{"padded base64 salt", "$argon2id$v=19$m=64,t=1,p=1$" + base64.StdEncoding.EncodeToString(make([]byte, 16)) + "$" + key},
		{"url base64 key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + base64.RawURLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xff})},
		{"empty salt", "$argon2id$v=19$m=64,t=1,p=1$$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(make([]byte, 7)) + "$" + key},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, 15))},
		{"huge key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + base64.RawStdEncoding.EncodeToString(make([]byte, 1<<20))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(t.Context(), "pw", tt.encoded)
			if ok || rehash || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%.80q) = %v, %v, %v, want false, false, ErrMalformedHash", tt.encoded, ok, rehash, err)
			}
		})
	}
}

func TestHashContextCancelled(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 1)
	encoded, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatalf("Hash error = %v", err)
	}

	// Fill the one slot, as a hash in progress would.
	h.slots <- struct{}{}

	ops := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Hash", func(ctx context.Context) error {
			_, err := h.Hash(ctx, "pw")
			return err
		}},
		{"Verify", func(ctx context.Context) error {
			_, _, err := h.Verify(ctx, "pw", encoded)
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/deadline while waiting", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			if err := op.run(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s(pool full, deadline 50ms) error = %v, want %v", op.name, err, context.DeadlineExceeded)
			}
		})
		t.Run(op.name+"/cancel while waiting", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() { errc <- op.run(ctx) }()
			time.Sleep(20 * time.Millisecond) // let it block on the pool
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s(pool full, then cancelled) error = %v, want %v", op.name, err, context.Canceled)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s(pool full, then cancelled) did not return after cancel", op.name)
			}
		})
	}

	// Once the slot frees up, a waiting hash proceeds.
	errc := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(t.Context(), "pw", encoded)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	<-h.slots
	if err := <-errc; err != nil {
		t.Errorf("Verify(after slot freed) error = %v, want nil", err)
	}
}

// TestHasherBound checks the pool's bound for more than one worker: with
// every slot taken by a hash in progress a further hash waits (here until its
// deadline) instead of running beside them; freeing one slot lets it run.
func TestHasherBound(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3} {
		h := NewHasher(cheapParams, n)
		for range n {
			h.slots <- struct{}{}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		_, err := h.Hash(ctx, "pw")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hash(%d of %d slots busy) error = %v, want %v", n, n, err, context.DeadlineExceeded)
		}
		<-h.slots
		if _, err := h.Hash(t.Context(), "pw"); err != nil {
			t.Errorf("Hash(%d of %d slots busy) error = %v, want nil", n-1, n, err)
		}
	}
	if got, want := cap(NewHasher(cheapParams, 0).slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("NewHasher(p, 0) pool size = %d, want GOMAXPROCS %d", got, want)
	}
}

func TestHashContextCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// The pool has a free slot, and still no work starts for a dead request.
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(cancelled ctx) error = %v, want %v", err, context.Canceled)
	}
}

// TestVerifyDummy checks that VerifyDummy does Verify's work: its dummy hash
// parses to exactly h's current parameters, so the argon2 cost is the same
// as for a real account hashed with them, and no password matches it.
func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	for _, p := range []Argon2Params{cheapParams, DefaultArgon2Params()} {
		h := NewHasher(p, 1)
		got, _, _, err := decodeHash(h.dummy)
		if err != nil {
			t.Fatalf("decodeHash(dummy %q) error = %v", h.dummy, err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("decodeHash(dummy %q) params mismatch (-want +got):\n%s", h.dummy, diff)
		}
	}
	h := NewHasher(cheapParams, 1)
	for _, pw := range []string{"", "pw", strings.Repeat("\x00", 32)} {
		if ok, _, err := h.Verify(t.Context(), pw, h.dummy); ok || err != nil {
			t.Errorf("Verify(%q, dummy) = %v, %v, want false, nil", pw, ok, err)
		}
		h.VerifyDummy(t.Context(), pw) // must not panic or block
	}
}

func TestPasswordParamsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       Argon2Params
		wantErr bool
	}{
		{"default", DefaultArgon2Params(), false},
		{"cheap", cheapParams, false},
		{"max", Argon2Params{MemoryKiB: maxMemoryKiB, Time: maxTime, Threads: maxThreads, SaltLen: maxSaltLen, KeyLen: maxKeyLen}, false},
		{"zero", Argon2Params{}, true},
		{"zero threads", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, true},
		{"zero time", Argon2Params{MemoryKiB: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"memory too low for lanes", Argon2Params{MemoryKiB: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"memory too high", Argon2Params{MemoryKiB: maxMemoryKiB + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"short salt", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, true},
		{"short key", Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err != nil) != tt.wantErr {
				t.Errorf("%+v.Validate() = %v, want error %v", tt.p, err, tt.wantErr)
			}
			panicked := func() (r any) {
				defer func() { r = recover() }()
				NewHasher(tt.p, 1)
				return nil
			}() != nil
			if panicked != tt.wantErr {
				t.Errorf("NewHasher(%+v) panicked = %v, want %v", tt.p, panicked, tt.wantErr)
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultArgon2Params(), 0)
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultArgon2Params(), 0)
	encoded, err := h.Hash(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(b.Context(), "correct horse battery staple", encoded); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}
