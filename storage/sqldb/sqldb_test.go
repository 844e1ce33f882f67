package sqldb_test

import (
	"path/filepath"
	"testing"

	"replenish/storage"
	"replenish/storage/pgtest"
	"replenish/storage/sqldb"
	"replenish/storage/storagetest"
)

// TestConformance runs the storage suite on SQLite, a new file per subtest.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		db, err := sqldb.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "replenish.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return db
	})
}

// TestConformancePostgres runs the same suite on PostgreSQL, a new schema
// per subtest, when REPLENISH_TEST_POSTGRES names a server.
func TestConformancePostgres(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.Env + " is not set")
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		db, err := sqldb.OpenPostgres(t.Context(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return db
	})
}
