package sqldb

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"replenish/storage"
	"replenish/storage/pgtest"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct {
		in   string
		args []any
		want string
		vals []any
	}{
		{"SELECT a FROM t WHERE b = ? AND c = ?", []any{1, 2}, "SELECT a FROM t WHERE b = $1 AND c = $2", []any{1, 2}},
		{"SELECT '?' , \"a?\" FROM t WHERE b = ?", []any{1}, "SELECT '?' , \"a?\" FROM t WHERE b = $1", []any{1}},
		{"SELECT a -- the model's ?\n FROM t WHERE b = ?", []any{1}, "SELECT a -- the model's ?\n FROM t WHERE b = $1", []any{1}},
		{"SELECT :x, :y, :x, ':x' WHERE a::text = :y", []any{sql.Named("x", 1), sql.Named("y", "b")},
			"SELECT $1, $2, $1, ':x' WHERE a::text = $2", []any{1, "b"}},
	} {
		got, vals := rebind(c.in, c.args)
		if got != c.want || len(vals) != len(c.vals) {
			t.Errorf("rebind(%q) = %q %v, want %q %v", c.in, got, vals, c.want, c.vals)
			continue
		}
		for i := range vals {
			if vals[i] != c.vals[i] {
				t.Errorf("rebind(%q) args = %v, want %v", c.in, vals, c.vals)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://app:s3cret@db.example:5432/replenish": "postgres://app:xxxxx@db.example:5432/replenish",
		"postgres://app@db.example/replenish":             "postgres://app@db.example/replenish",
		"replenish.db":                                    "replenish.db",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A migration that fails halfway leaves the database as it was before
// it: nothing of its statements stays, and it is not recorded; the next
// opening tries it again. On both databases.
func TestFailedMigrationChangesNothing(t *testing.T) {
	open := map[string]func(t *testing.T) (*DB, error){
		"sqlite": func(t *testing.T) (*DB, error) {
			return OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "m.db"))
		},
		"postgres": func(t *testing.T) (*DB, error) { return OpenPostgres(t.Context(), pgtest.URL(t)) },
	}
	for name, openDB := range open {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && !pgtest.Available() {
				t.Skip(pgtest.Env + " is not set")
			}
			saved := migrations
			t.Cleanup(func() { migrations = saved })
			first := "CREATE TABLE first (a TEXT);"
			if name == "postgres" {
				// What opening needs beside: partitioned readings.
				first += "CREATE TABLE readings (sample_at BIGINT) PARTITION BY RANGE (sample_at);"
			}
			migrations = fstest.MapFS{
				"migrations/" + name + "/0001_first.sql": {Data: []byte(first)},
				"migrations/" + name + "/0002_broken.sql": {Data: []byte(
					"CREATE TABLE second (a TEXT); INSERT INTO first (a) VALUES ('x'); INSERT INTO no_such_table VALUES (1);")},
			}
			_, err := openDB(t)
			if err == nil || !strings.Contains(err.Error(), "0002_broken.sql") {
				t.Fatalf("opening with a broken migration: %v, want an error naming it", err)
			}
			migrations = fstest.MapFS{"migrations/" + name + "/0001_first.sql": {Data: []byte(first)}}
			db, err := openDB(t)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var rows, second, applied int
			err = db.Read(t.Context(), func(storage.Tx) error {
				q := func(query string, dest *int) error {
					return db.reader.QueryRowContext(t.Context(), query).Scan(dest)
				}
				if err := q("SELECT count(*) FROM first", &rows); err != nil {
					return err
				}
				if err := q("SELECT count(*) FROM schema_migrations", &applied); err != nil {
					return err
				}
				if db.pg {
					return q("SELECT count(*) FROM information_schema.tables WHERE table_name = 'second' AND table_schema = current_schema()", &second)
				}
				return q("SELECT count(*) FROM sqlite_master WHERE name = 'second'", &second)
			})
			if err != nil {
				t.Fatal(err)
			}
			if rows != 0 || second != 0 || applied != 1 {
				t.Errorf("after the failed migration: %d rows in first, table second %d, %d migrations recorded; want 0, 0, 1",
					rows, second, applied)
			}
		})
	}
}

// Retention on PostgreSQL drops the months of readings that ended before
// the cut whole, and deletes the older readings that are left row by row;
// the months ahead exist.
func TestReadingPartitions(t *testing.T) {
	if !pgtest.Available() {
		t.Skip(pgtest.Env + " is not set")
	}
	ctx := t.Context()
	db, err := OpenPostgres(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	this := monthStart(now)
	have, err := partitions(ctx, db.reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := -1; i <= monthsAhead; i++ {
		name := partitionPrefix + this.AddDate(0, i, 0).Format("200601")
		if _, ok := have[name]; !ok {
			t.Errorf("no partition %s among %v", name, have)
		}
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.writer.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(`INSERT INTO marketplaces (code, region, currency, locale, lead_days, lead_sd) VALUES ('US', 'NA', 'USD', 'en-US', 3, 1)`)
	exec(`INSERT INTO customers (customer_id, email, name, marketplace, locale, created_at)
		VALUES ('c', 'c@example.com', 'C', 'US', 'en-US', 0)`)
	exec(`INSERT INTO vendors (vendor_code, name, client_id, client_secret_hash, signing_secret, created_at)
		VALUES ('v', 'V', 'v-client', '\x00', 's', 0)`)
	exec(`INSERT INTO endpoints (id, customer_id, endpoint_id, vendor_code, model_id, friendly_name, created_at, updated_at)
		VALUES (1, 'c', 'e', 'v', 'm', 'E', 0, 0)`)
	exec(`INSERT INTO endpoint_slots (id, endpoint, instance, slot_id, name, replenishment_id, mode) VALUES (1, 1, 'i', 's', 'S', 'r', 'NOTIFY')`)
	// Last month: 3 readings; this month: 2 before the cut, 1 after; a
	// year ago (the default partition): 1.
	lastMonth := this.AddDate(0, -1, 0)
	cut := this.Add(time.Hour)
	for i, at := range []time.Time{lastMonth, lastMonth.Add(time.Hour), lastMonth.Add(2 * time.Hour),
		this, this.Add(time.Minute), cut.Add(time.Minute), this.AddDate(-1, 0, 0)} {
		exec(`INSERT INTO readings (slot, sample_at, amount, received_at) VALUES (1, $1, $2, $1)`, at.UnixMicro(), i)
	}
	var n int
	if err := db.Write(ctx, func(tx storage.Tx) (err error) {
		n, err = tx.DeleteReadings(ctx, cut, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.reader.QueryRowContext(ctx, "SELECT count(*) FROM readings").Scan(&left); err != nil {
		t.Fatal(err)
	}
	have, _ = partitions(context.Background(), db.reader)
	if _, ok := have[partitionPrefix+lastMonth.Format("200601")]; ok {
		t.Errorf("last month's partition is still there")
	}
	if n != 6 || left != 1 {
		t.Errorf("deleted %d readings, %d left; want 6 deleted (a month dropped, 3 rows), 1 left", n, left)
	}
}
