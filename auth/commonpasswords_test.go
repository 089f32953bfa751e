package auth_test

import (
	"testing"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/auth"
)

func TestIsCommonPassword(t *testing.T) {
	for pw, want := range map[string]bool{
		"123456": true, "password": true, "PASSWORD": true, "qwertyuiop": true, "password123": true,
		"correct-horse-9": false, "a long passphrase nobody uses": false, "": false,
	} {
		if got := auth.IsCommonPassword(pw); got != want {
			t.Errorf("IsCommonPassword(%q) = %v, want %v", pw, got, want)
		}
	}
}

func TestCommonPasswordRefused(t *testing.T) {
	env := apitest.New(t)
	tn := env.Tenant(t, "policy")
	r := env.Do(t, "POST", "/auth/customer/emailpass/register", map[string]any{"email": "c@p.test", "password": "baseball"}, "x-tenant-id", "policy")
	if r.Status != 400 || r.JSON["type"] != "invalid_data" {
		t.Errorf("register with a common password = %d %s, want 400 invalid_data", r.Status, r.Body)
	}
	if _, err := env.Auth.CreateUser(env.Ctx(tn), auth.CreateUserInput{Email: "u@p.test", Password: "iloveyou"}); err == nil {
		t.Errorf("CreateUser with a common password succeeded, want an error")
	}
}
