// Package pgtest gives tests a PostgreSQL database of their own: a new
// schema in the database that REPLENISH_TEST_POSTGRES names, dropped when
// the test ends. Tests that need PostgreSQL skip without the variable.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of database/sql
)

// Env is the variable that names the test server's database.
const Env = "REPLENISH_TEST_POSTGRES"

// Available reports whether PostgreSQL tests run.
func Available() bool { return os.Getenv(Env) != "" }

// URL creates an empty schema for t and returns the database's URL with
// that schema as its search path; the schema is dropped when t ends. It
// skips t when REPLENISH_TEST_POSTGRES is not set.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip(Env + " is not set: PostgreSQL tests do not run")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create a schema on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
