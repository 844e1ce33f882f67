// Package sqldb implements storage.Store with hand-written SQL over
// database/sql, on two databases. SQLite (pure Go, one file) is the
// embedded default: WAL, a busy timeout, one writer connection and a pool
// of readers. PostgreSQL (pgx) serves several instances at once
// (postgres.go). Both run the same statements; each has its own
// migrations, in the same order.
package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"replenish"
	"replenish/metrics"
	"replenish/storage"
)

//go:embed migrations
var embedded embed.FS

// migrations holds the migrations of both databases; tests put others in.
var migrations fs.FS = embedded

// DB is a Store on SQLite or PostgreSQL.
type DB struct {
	writer *sql.DB
	reader *sql.DB
	// pg is set on PostgreSQL: statements are rebound to its placeholders,
	// writes lock what they read and change (postgres.go), and the
	// writer keeps no cache, since another instance may change any row.
	pg bool

	// The group committer (group.go) and its prepared statements.
	prepared  *statements
	cache     *writerCache
	writes    chan *write
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once

	// migrated lists the migrations this opening applied.
	migrated []string
}

// Migration is one embedded schema migration and when it was applied
// (zero when it was not).
type Migration struct {
	Name      string
	AppliedAt time.Time
}

// Migrations lists every embedded migration, oldest first, with when it
// was applied, and the names of those this opening applied.
func (db *DB) Migrations(ctx context.Context) (all []Migration, now []string, err error) {
	names, err := db.migrationFiles()
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		base := name[strings.LastIndex(name, "/")+1:]
		version, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		var at sql.NullInt64
		err := db.reader.QueryRowContext(ctx, db.bind("SELECT applied_at FROM schema_migrations WHERE version = ?"), version).Scan(&at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
		all = append(all, Migration{Name: base, AppliedAt: fromMicros(at)})
	}
	return all, db.migrated, nil
}

// Backup writes a consistent copy of the live SQLite database at path to
// the new file to, while the service goes on reading and writing it (a
// VACUUM INTO on a connection of its own). It refuses a file that exists.
func Backup(ctx context.Context, path, to string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the database %s: %w", path, err)
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("%s exists: give a new file", to)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	conn, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", to); err != nil {
		os.Remove(to)
		return fmt.Errorf("backup to %s: %w", to, err)
	}
	return nil
}

var _ storage.Store = (*DB)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		// FULL makes every commit durable before it returns: an event
		// answered 202 survives a crash.
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(1)")
		for _, e := range extra {
			q.Add("_pragma", e)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// The writer looks up tokens, endpoints and events for every event:
	// a page cache of 64 MiB (the default is 2) keeps their upper B-tree
	// levels in memory in a large database.
	writer, err := sql.Open("sqlite", dsn("cache_size(-65536)")+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer: SQLite serializes writes anyway, and one connection
	// turns lock contention into a queue in Go.
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	reader, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	db := &DB{writer: writer, reader: reader}
	if err := db.migrate(ctx); err != nil {
		errors.Join(db.reader.Close(), db.writer.Close())
		return nil, err
	}
	db.startWriter()
	return db, nil
}

// Close waits for the write group in progress, then closes both pools.
func (db *DB) Close() error {
	db.stopWriter()
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// Ping checks that the database answers and that every migration built
// into this binary is applied.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.reader.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return err
	}
	names, err := db.migrationFiles()
	if err != nil {
		return err
	}
	if n < len(names) {
		return fmt.Errorf("%d of %d migrations are applied: run replenish migrate", n, len(names))
	}
	return nil
}

// migrationFiles lists the embedded migrations of the database, oldest first.
func (db *DB) migrationFiles() ([]string, error) {
	dir := "sqlite"
	if db.pg {
		dir = "postgres"
	}
	names, err := fs.Glob(migrations, "migrations/"+dir+"/*.sql")
	slices.Sort(names)
	return names, err
}

// Read runs fn in a read-only transaction on the reader pool.
func (db *DB) Read(ctx context.Context, fn func(storage.Tx) error) error {
	st, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.pg})
	if err != nil {
		return unavailable(err)
	}
	if err := fn(&tx{tx: sqlTx{Tx: st, pg: db.pg}}); err != nil {
		st.Rollback()
		return transient(err)
	}
	if err := st.Commit(); err != nil {
		return unavailable(err)
	}
	return nil
}

// transient turns what the database fails with that retrying later can
// cure (a full disk, an I/O error, a lock held past the busy timeout, no
// memory) into unavailable: the client is told to retry, and nothing of
// the write stays. An error that already has a code keeps it.
func transient(err error) error {
	var coded *replenish.Error
	if err == nil || errors.As(err, &coded) {
		return err
	}
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return transientPG(err)
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		metrics.StorageError("full")
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		metrics.StorageError("io")
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		metrics.StorageError("busy")
	case sqlite3.SQLITE_NOMEM:
		metrics.StorageError("memory")
	default:
		metrics.StorageError("other")
		return err
	}
	return unavailable(err)
}

func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &replenish.Error{Code: replenish.EUnavailable, Message: "storage is unavailable", Err: err}
}

// migrate applies, in order, every embedded migration not yet applied,
// each in a transaction of its own with its record in schema_migrations:
// a migration that fails leaves the database as it was before it. On
// PostgreSQL an advisory lock makes instances that start at once migrate
// one after another, so each migration runs once.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return unavailable(fmt.Errorf("migrate: %w", err))
	}
	defer conn.Close()
	if db.pg {
		// Another instance may be migrating: wait for it as long as it
		// takes, whatever the writer's lock timeout.
		if _, err := conn.ExecContext(ctx, "SET lock_timeout = 0"); err != nil {
			return unavailable(fmt.Errorf("migrate: %w", err))
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "RESET lock_timeout")
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return unavailable(fmt.Errorf("migrate: %w", err))
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := db.migrationFiles()
	if err != nil {
		return err
	}
	for _, name := range names {
		base := name[strings.LastIndex(name, "/")+1:]
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		err = func() error {
			t, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer t.Rollback()
			var n int
			if err := t.QueryRowContext(ctx, db.bind("SELECT count(*) FROM schema_migrations WHERE version = ?"), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := t.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			if _, err := t.ExecContext(ctx, db.bind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
				version, micros(time.Now())); err != nil {
				return err
			}
			if err := t.Commit(); err != nil {
				return err
			}
			db.migrated = append(db.migrated, base)
			return nil
		}()
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

// micros stores a time as microseconds since the epoch; the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reads what micros stored.
func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

func isUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return pgCode(err) == "23505"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
