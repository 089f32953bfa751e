package seal

import (
	"bytes"
	"testing"
)

func TestSealOpen(t *testing.T) {
	master := []byte("test-master-key-0123456789abcdef0123456789")
	a, err := New(master, "use a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(master, "use b")
	sealed, err := a.Seal([]byte("secret"), []byte("ten_1/x"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("the sealed value holds the plaintext")
	}
	if pt, err := a.Open(sealed, []byte("ten_1/x")); err != nil || string(pt) != "secret" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := a.Open(sealed, []byte("ten_2/x")); err == nil {
		t.Error("opened with another owner's additional data")
	}
	if _, err := b.Open(sealed, []byte("ten_1/x")); err == nil {
		t.Error("opened under another label's key")
	}
	if _, err := a.Open(sealed[:5], nil); err != ErrMalformed {
		t.Errorf("short value: %v, want ErrMalformed", err)
	}
	if _, err := New(nil, "x"); err == nil {
		t.Error("New without a master key succeeded")
	}
}
