package users

import (
	"strings"
	"testing"
	"time"

	"replenish"
)

func TestSignUpMakesACustomerWhoSignsIn(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, err := e.users.SignUp(ctx, SignUp{Email: " Kim@Example.com", Password: "a long password", Name: " Kim ", Marketplace: "UK"})
	if err != nil {
		t.Fatal(err)
	}
	u := sess.User
	if u.Role != replenish.RoleCustomer || !strings.HasPrefix(u.CustomerID, "cu-") || u.Email != "kim@example.com" {
		t.Fatalf("signed up as %+v, want a customer user", u)
	}
	if got, err := e.users.User(ctx, sess.Token); err != nil || got.CustomerID != u.CustomerID {
		t.Errorf("the sign-up's session is %+v, %v; want the new customer", got, err)
	}
	again, err := e.users.SignIn(ctx, "kim@example.com", "a long password")
	if err != nil || again.User.CustomerID != u.CustomerID {
		t.Errorf("sign-in after sign-up: %+v, %v", again.User, err)
	}
	_, err = e.users.SignUp(ctx, SignUp{Email: "kim@example.com", Password: "another password", Name: "Kim 2", Marketplace: "US"})
	if e, ok := err.(*replenish.Error); !ok || e.Code != replenish.EConflict || e.Fields["email"] == "" {
		t.Errorf("a second sign-up with one address: %v, want a conflict naming email", err)
	}
}

func TestSignUpRefusesEveryBadFieldAtOnce(t *testing.T) {
	e := newEnv(t)
	_, err := e.users.SignUp(t.Context(), SignUp{Email: "nope", Password: "short", Name: " ", Marketplace: "XX"})
	re, ok := err.(*replenish.Error)
	if !ok || re.Code != replenish.EInvalid {
		t.Fatalf("bad sign-up: %v, want invalid", err)
	}
	for _, f := range []string{"email", "password", "name", "marketplace"} {
		if re.Fields[f] == "" {
			t.Errorf("the refusal does not name %s: %v", f, re.Fields)
		}
	}
	if _, err := e.users.SignIn(t.Context(), "nope", "short"); replenish.ErrorCode(err) != replenish.EUnauthorized {
		t.Errorf("a refused sign-up left a user behind: %v", err)
	}
}

func TestCustomerUserOfAnExistingCustomer(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	sess, err := e.users.SignUp(ctx, SignUp{Email: "lee@example.com", Password: "a long password", Name: "Lee", Marketplace: "US"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.users.Create(ctx, NewUser{Email: "lee.partner@example.com", Password: "another password",
		Role: replenish.RoleCustomer, CustomerID: sess.User.CustomerID})
	if err != nil || u.CustomerID != sess.User.CustomerID {
		t.Fatalf("a second sign-in of the customer: %+v, %v", u, err)
	}
	s2, err := e.users.SignIn(ctx, "lee.partner@example.com", "another password")
	if err != nil || s2.User.CustomerID != sess.User.CustomerID || s2.User.Role != replenish.RoleCustomer {
		t.Errorf("sign-in of the second user: %+v, %v", s2.User, err)
	}
}

func TestFailedAttemptLimit(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.users.SignUp(ctx, SignUp{Email: "max@example.com", Password: "the right one", Name: "Max", Marketplace: "US"}); err != nil {
		t.Fatal(err)
	}
	for i := range MaxFailures {
		if _, err := e.users.SignIn(ctx, "max@example.com", "a wrong one"); replenish.ErrorCode(err) != replenish.EUnauthorized {
			t.Fatalf("wrong password %d: %v, want unauthorized", i+1, err)
		}
	}
	_, err := e.users.SignIn(ctx, "MAX@example.com", "the right one")
	re, ok := err.(*replenish.Error)
	if !ok || re.Code != replenish.EThrottled || re.RetryAfter <= 0 || re.Fields["password"] == "" {
		t.Fatalf("the right password after %d failures: %v, want throttled with a wait", MaxFailures, err)
	}
	// Another address is not held back.
	if _, err := e.users.SignIn(ctx, "other@example.com", "whatever it is"); replenish.ErrorCode(err) != replenish.EUnauthorized {
		t.Errorf("another address: %v, want unauthorized", err)
	}
	e.clock = e.clock.Add(LockedFor + time.Second)
	if _, err := e.users.SignIn(ctx, "max@example.com", "the right one"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Success forgets the failures.
	for range MaxFailures - 1 {
		e.users.SignIn(ctx, "max@example.com", "a wrong one")
	}
	if _, err := e.users.SignIn(ctx, "max@example.com", "the right one"); err != nil {
		t.Errorf("%d failures after a success locked the address: %v", MaxFailures-1, err)
	}
}
