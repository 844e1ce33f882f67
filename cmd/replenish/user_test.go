package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"replenish/storage/sqldb"
	"replenish/users"
)

// TestUserAdd: "replenish user add" makes console users who can then sign
// in; the password comes from the environment or standard input, and bad
// input names the flag and adds nobody.
func TestUserAdd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "users.db")
	ctx := context.Background()
	add := func(stdin string, vars map[string]string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := userCommand(ctx, append([]string{"add", "--db", db}, args...), env(vars), strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	out, err := add("", map[string]string{"REPLENISH_PASSWORD": "from the environment"}, "--email", "op@example.com")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "Created the operator. Its API key") || !strings.Contains(out, "Added op@example.com (operator)") {
		t.Errorf("the first add on a new database says:\n%s", out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"long enough password\n", []string{"--email", "nope"}, "--email: must be an e-mail address"},
		{"short\n", []string{"--email", "a@example.com"}, "--password: must be 10 to 200 characters"},
		{"", []string{"--email", "a@example.com"}, "no password"},
		{"long enough password\n", []string{"--email", "a@example.com", "--role", "vendor"}, "--vendor: required for vendor users"},
		{"long enough password\n", []string{"--email", "a@example.com", "--role", "vendor", "--vendor", "ghost"}, "--vendor: no vendor ghost"},
		{"long enough password\n", []string{"--email", "op@example.com"}, "a user with this address exists"},
		{"long enough password\n", []string{"--email", "c@example.com", "--role", "customer"}, "--customer: required for customer users"},
		{"long enough password\n", []string{"--email", "c@example.com", "--role", "customer", "--customer", "cu-ghost"}, "--customer: no customer cu-ghost"},
	} {
		if _, err := add(tc.stdin, nil, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	out, err = add("from standard input\n", nil, "--email", "second@example.com")
	if err != nil || strings.Contains(out, "API key") {
		t.Fatalf("second add: %v\n%s", err, out)
	}

	store, err := sqldb.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	us := users.New(store, time.Now)
	all, err := us.Users(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("users %v (%v), want the two added", all, err)
	}
	for email, password := range map[string]string{"op@example.com": "from the environment", "second@example.com": "from standard input"} {
		if _, err := us.SignIn(ctx, email, password); err != nil {
			t.Errorf("%s signs in: %v", email, err)
		}
	}

	var help bytes.Buffer
	if err := run(ctx, []string{"replenish", "user", "add", "--help"}, env(nil), &help, &help); err != nil ||
		!strings.Contains(help.String(), "REPLENISH_PASSWORD") || !strings.Contains(help.String(), "--email") {
		t.Errorf("user add --help: %v\n%s", err, help.String())
	}
}
