package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of database/sql

	"replenish/metrics"
)

// PostgreSQL. The statements are SQLite's, written to mean the same on
// both: `?` placeholders, rebound here to `$1, $2, ...`; times as integer
// microseconds; ON CONFLICT and RETURNING. What differs with several
// instances on one database:
//
//   - Writes still go through the group committer (group.go), with
//     pgWriters groups at once per instance, each on a connection of its
//     own; readers use a pool.
//   - The writer keeps no cache: another instance may change any row.
//   - A write that reads an endpoint locks its row (FOR UPDATE), so that
//     two instances taking events for one device, or a timer and an
//     event, change its slots one after the other, never both from the
//     same old state.
//   - Background work is claimed: due orders with FOR UPDATE SKIP LOCKED
//     in the transaction that moves them; outbox rows and fulfilment
//     requests by moving their due time ahead (a lease) before they are
//     sent, so that one instance sends each, and another takes it over
//     when the lease runs out.
//   - Two instances' groups may each hold a lock the other's next member
//     wants. The writer's statements wait for a lock for lockTimeout at
//     most (far less than PostgreSQL's deadlock detection takes); a member
//     that waited in vain, or that PostgreSQL chose to break a deadlock,
//     is undone and run again in the next group, once this group has
//     committed and let go of its own locks.

// migrationLock is the advisory lock key that instances migrating at once
// take in turn: "replenis" in ASCII.
const migrationLock = 0x7265706c656e6973

// lockTimeout bounds the writer's wait for a lock: a group holds its locks
// for a few milliseconds, so a longer wait is a cycle between instances.
const lockTimeout = "100ms"

// OpenPostgres connects to the PostgreSQL database at url (a postgres://
// URL or a key=value connection string) and brings its schema up to date.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	writer, err := sql.Open("pgx", withParam(url, "lock_timeout", lockTimeout))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Redact(url), err)
	}
	// Each group committer holds a connection; migrations use one first.
	writer.SetMaxOpenConns(pgWriters)
	reader, err := sql.Open("pgx", url)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", Redact(url), err)
	}
	reader.SetMaxOpenConns(16)
	reader.SetMaxIdleConns(16)
	db := &DB{writer: writer, reader: reader, pg: true}
	err = db.migrate(ctx)
	if err == nil {
		err = db.ensurePartitions(ctx, time.Now())
	}
	if err != nil {
		errors.Join(db.reader.Close(), db.writer.Close())
		return nil, err
	}
	db.startWriter()
	db.keepPartitions()
	return db, nil
}

// withParam adds a run-time parameter to a connection string, in its
// form: a URL's query, or key=value words.
func withParam(dsn, key, value string) string {
	if !IsPostgres(dsn) {
		return dsn + " " + key + "=" + value
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + key + "=" + value
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than
// a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database dsn names: a postgres:// URL, or else the path
// of a SQLite file.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// Redact returns dsn without its password, for messages and logs.
func Redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if !IsPostgres(dsn) || at < 0 || scheme < 0 {
		return dsn
	}
	user := dsn[scheme+3 : at]
	if name, _, ok := strings.Cut(user, ":"); ok {
		return dsn[:scheme+3] + name + ":xxxxx" + dsn[at:]
	}
	return dsn
}

// bound caches statements rebound to PostgreSQL's placeholders.
var bound sync.Map

// bind returns query with its placeholders as the database wants them.
func (db *DB) bind(query string) string {
	if !db.pg {
		return query
	}
	q, _ := rebind(query, nil)
	return q
}

// rebind turns each `?` outside quotes and comments into $1, $2, ...;
// with named arguments (sql.Named), each `:name` into the $ of its
// argument, and the arguments into their values.
func rebind(query string, args []any) (string, []any) {
	names := map[string]int{}
	for i, a := range args {
		if na, ok := a.(sql.NamedArg); ok {
			if len(names) == 0 {
				args = slices.Clone(args)
			}
			names[na.Name] = i + 1
			args[i] = na.Value
		}
	}
	if len(names) == 0 {
		if q, ok := bound.Load(query); ok {
			return q.(string), args
		}
	}
	var b strings.Builder
	n := 0
	quote := byte(0)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			quote = '\n' // a comment, to the end of the line
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		case c == ':' && len(names) > 0:
			j := i + 1
			for j < len(query) && (isWord(query[j])) {
				j++
			}
			if k, ok := names[query[i+1:j]]; ok {
				b.WriteString("$" + strconv.Itoa(k))
				i = j - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	q := b.String()
	if len(names) == 0 {
		bound.Store(query, q)
	}
	return q, args
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// retryable reports whether err is PostgreSQL undoing a statement that
// waited too long for a lock, or to break a deadlock or a serialization
// conflict with another transaction: the same work succeeds when run again.
func retryable(err error) bool {
	switch pgCode(err) {
	case "40P01", "40001", "55P03":
		return true
	}
	return false
}

// transientPG is transient for PostgreSQL and the network to it: a lost
// connection, a server shutting down or out of room, a lock conflict.
func transientPG(err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch {
		case e.Code == "53100":
			metrics.StorageError("full")
		case e.Code == "53200":
			metrics.StorageError("memory")
		case strings.HasPrefix(e.Code, "08"), strings.HasPrefix(e.Code, "57"), strings.HasPrefix(e.Code, "53"):
			metrics.StorageError("io")
		case strings.HasPrefix(e.Code, "40"), e.Code == "55P03":
			metrics.StorageError("busy")
		default:
			return err
		}
		return unavailable(err)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		metrics.StorageError("io")
		return unavailable(err)
	}
	return err
}

// skipLocked ends a query that claims rows in a write on PostgreSQL: it
// locks them until the transaction ends, skipping those another holds.
// SQLite has one writer, which needs no lock.
func (t *tx) skipLocked() string {
	if t.tx.pg && t.tx.group {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// lockEndpoints ends a query of endpoints (aliased e) in a write on
// PostgreSQL: a write that reads an endpoint goes on to change its slots,
// and another instance's write to the same endpoint waits for it.
func (t *tx) lockEndpoints() string {
	if t.tx.pg && t.tx.group {
		return " FOR UPDATE OF e"
	}
	return ""
}

// OpenRaw opens the database dsn names as a plain pool, without migrating
// or the group committer: for bulk loading by the bench command, and for
// tests that count rows. Write its queries with Bind.
func OpenRaw(dsn string) (*sql.DB, error) {
	if IsPostgres(dsn) {
		return sql.Open("pgx", dsn)
	}
	return sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)")
}

// Bind returns query, written with `?` placeholders, as the database dsn
// names wants it.
func Bind(dsn, query string) string {
	if !IsPostgres(dsn) {
		return query
	}
	q, _ := rebind(query, nil)
	return q
}
