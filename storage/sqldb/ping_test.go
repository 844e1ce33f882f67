package sqldb

import (
	"strings"
	"testing"
)

// TestPingPendingMigrations: the database answers but lacks a migration
// of this binary (a restored older copy under a running service): not
// ready.
func TestPingPendingMigrations(t *testing.T) {
	ctx := t.Context()
	db, err := OpenSQLite(ctx, t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping of a migrated database: %v", err)
	}
	if _, err := db.writer.ExecContext(ctx, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err == nil || !strings.Contains(err.Error(), "replenish migrate") {
		t.Fatalf("Ping with a migration missing: %v, want an error saying to migrate", err)
	}
}
