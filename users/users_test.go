package users

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"replenish"
	"replenish/console"
	"replenish/storage/sqldb"
)

func TestPasswordHash(t *testing.T) {
	h1, h2 := hashPassword("correct horse battery"), hashPassword("correct horse battery")
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not record argon2id and its parameters", h1)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not per hash")
	}
	if !checkPassword(h1, "correct horse battery") || !checkPassword(h2, "correct horse battery") {
		t.Error("the right password does not match")
	}
	for _, wrong := range []string{"", "correct horse batter", "correct horse battery ", "Correct horse battery"} {
		if checkPassword(h1, wrong) {
			t.Errorf("%q matches", wrong)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=8,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=8,t=0,p=1$c2FsdA$a2V5"} {
		if checkPassword(bad, "") || checkPassword(bad, "plain") {
			t.Errorf("malformed hash %q matches", bad)
		}
	}
	// Parameters are read from the hash: a hash made with others still checks.
	salt := []byte("somesalt")
	other := "$argon2id$v=19$m=64,t=1,p=1$" + b64.EncodeToString(salt) + "$" +
		b64.EncodeToString(argon2.IDKey([]byte("password"), salt, 1, 64, 1, 24))
	if !checkPassword(other, "password") || checkPassword(other, "passwore") {
		t.Error("a hash made with other parameters does not check as it should")
	}
}

type env struct {
	users *Service
	clock time.Time
}

func newEnv(t *testing.T) *env {
	store, err := sqldb.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	now := func() time.Time { return e.clock }
	con := console.New(store, now)
	if _, err := con.Bootstrap(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := con.CreateVendor(t.Context(), "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	e.users = New(store, now)
	return e
}

func TestCreateRefusesBadInputAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		in    NewUser
		field string
	}{
		{NewUser{Email: "not-an-address", Password: "long enough pass", Role: replenish.RoleOperator}, "email"},
		{NewUser{Email: "a@example.com", Password: "short", Role: replenish.RoleOperator}, "password"},
		{NewUser{Email: "a@example.com", Password: strings.Repeat("x", 201), Role: replenish.RoleOperator}, "password"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: "robot"}, "role"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleCustomer}, "customerId"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleCustomer, CustomerID: "cu-nobody"}, "customerId"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleOperator, CustomerID: "cu-x"}, "customerId"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleVendor}, "vendorCode"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleVendor, VendorCode: "nope"}, "vendorCode"},
		{NewUser{Email: "a@example.com", Password: "long enough pass", Role: replenish.RoleOperator, VendorCode: "acme"}, "vendorCode"},
	} {
		_, err := e.users.Create(t.Context(), tc.in)
		var re *replenish.Error
		if replenish.ErrorCode(err) != replenish.EInvalid {
			t.Errorf("%+v: error %v, want invalid", tc.in, err)
			continue
		}
		if re = err.(*replenish.Error); re.Fields[tc.field] == "" {
			t.Errorf("%+v: fields %v do not name %s", tc.in, re.Fields, tc.field)
		}
	}
	us, err := e.users.Users(t.Context(), "")
	if err != nil || len(us) != 0 {
		t.Errorf("after refusals: users %v, %v; want none", us, err)
	}
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, err := e.users.Create(ctx, NewUser{Email: " Jo@Example.com", Password: "ten chars!", Role: replenish.RoleVendor, VendorCode: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "jo@example.com" {
		t.Errorf("e-mail kept as %q, want it trimmed and lower case", u.Email)
	}
	if _, err := e.users.Create(ctx, NewUser{Email: "jo@example.com", Password: "another one", Role: replenish.RoleOperator}); replenish.ErrorCode(err) != replenish.EConflict {
		t.Errorf("second user with one e-mail: %v, want conflict", err)
	}
	if has, _ := e.users.HasOperator(ctx); has {
		t.Error("HasOperator with only a vendor user")
	}

	wrong, err1 := e.users.SignIn(ctx, "jo@example.com", "ten chars?")
	_, err2 := e.users.SignIn(ctx, "nobody@example.com", "ten chars!")
	if replenish.ErrorCode(err1) != replenish.EUnauthorized || replenish.ErrorCode(err2) != replenish.EUnauthorized || wrong.Token != "" {
		t.Fatalf("wrong password: %v; unknown e-mail: %v; want unauthorized", err1, err2)
	}
	if err1.Error() != err2.Error() {
		t.Errorf("a wrong password (%v) and an unknown e-mail (%v) answer differently", err1, err2)
	}

	sess, err := e.users.SignIn(ctx, "JO@example.com", "ten chars!")
	if err != nil {
		t.Fatal(err)
	}
	if !sess.ExpiresAt.Equal(e.clock.Add(SessionTTL)) || !strings.HasPrefix(sess.Token, "rs_") {
		t.Errorf("session %+v", sess)
	}
	got, err := e.users.User(ctx, sess.Token)
	if err != nil || got.UserID != u.UserID || got.Principal() != (replenish.Principal{Role: replenish.RoleVendor, VendorCode: "acme", Name: "jo@example.com"}) {
		t.Errorf("User(token) = %+v, %v", got, err)
	}
	if _, err := e.users.User(ctx, sess.Token+"x"); replenish.ErrorCode(err) != replenish.EUnauthorized {
		t.Errorf("unknown token: %v", err)
	}

	// A session ends at its expiry...
	e.clock = e.clock.Add(SessionTTL)
	if _, err := e.users.User(ctx, sess.Token); replenish.ErrorCode(err) != replenish.EUnauthorized {
		t.Errorf("expired session: %v, want unauthorized", err)
	}
	// ...or when its user signs out; signing out twice is harmless.
	sess, err = e.users.SignIn(ctx, "jo@example.com", "ten chars!")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.users.SignOut(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.users.User(ctx, sess.Token); replenish.ErrorCode(err) != replenish.EUnauthorized {
		t.Errorf("after sign-out: %v, want unauthorized", err)
	}
}

// BenchmarkCheckPassword measures one sign-in's hashing cost with the
// parameters of new hashes (docs/pages.md).
func BenchmarkCheckPassword(b *testing.B) {
	h := hashPassword("correct horse battery")
	for b.Loop() {
		checkPassword(h, "correct horse battery")
	}
}
