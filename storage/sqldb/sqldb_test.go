package sqldb_test

import (
	"path/filepath"
	"testing"

	"replenish/storage"
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
