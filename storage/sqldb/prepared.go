package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// Preparing a statement (parsing and planning its SQL) costs more than
// running the short statements of a write, and the writer runs the same
// few statements over and over. So the writer's statements are prepared
// once and kept, by their SQL text.
//
// The writer pool has one connection, held by the open transaction, so a
// statement cannot be prepared on the pool while one runs: a statement
// first runs unprepared, and the writer prepares it between two groups.

// maxPrepared bounds the cache; the service has far fewer statements.
const maxPrepared = 500

// statements caches the prepared statements of one pool.
type statements struct {
	pool   *sql.DB
	mu     sync.Mutex
	ready  map[string]*sql.Stmt
	wanted map[string]bool
}

func newStatements(pool *sql.DB) *statements {
	return &statements{pool: pool, ready: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// in returns query prepared, for use in t, or nil when it is not prepared
// yet (and will be by the next prepare).
func (s *statements) in(ctx context.Context, t *sql.Tx, query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	st := s.ready[query]
	if st == nil && len(s.ready)+len(s.wanted) < maxPrepared {
		s.wanted[query] = true
	}
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	return t.StmtContext(ctx, st)
}

// prepare prepares the statements asked for since it last ran. It needs a
// free connection of the pool: call it between transactions. A statement
// that fails to prepare keeps running unprepared, and its error shows there.
func (s *statements) prepare(ctx context.Context) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.wanted {
		if st, err := s.pool.PrepareContext(ctx, q); err == nil {
			s.ready[q] = st
		}
		delete(s.wanted, q)
	}
}

// close releases the prepared statements.
func (s *statements) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.ready {
		st.Close()
	}
}

// sqlTx is a transaction that runs the statements it has prepared as such.
//
// In a write group (stmts set), statements run detached from the caller's
// context. A context that ends interrupts the running statement, and an
// interrupted write makes SQLite roll back the whole transaction: the
// group's, with every other caller's work. (A caller whose context ended
// before its turn is not run at all.) Detached, a statement also spares the
// driver the goroutine it starts to watch a context.
//
// On PostgreSQL (pg), queries are rebound to its placeholders, and the
// driver prepares and keeps statements itself.
type sqlTx struct {
	*sql.Tx
	stmts *statements  // nil: none is prepared
	cache *writerCache // nil: outside the writer, or on PostgreSQL
	group bool         // a write group's transaction
	pg    bool
}

// bind returns query and args as the database wants them.
func (t sqlTx) bind(query string, args []any) (string, []any) {
	if t.pg {
		return rebind(query, args)
	}
	return query, args
}

func (t sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = t.bind(query, args)
	ctx = t.detach(ctx)
	t.cache.wrote(query)
	if st := t.stmts.in(ctx, t.Tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = t.bind(query, args)
	ctx = t.detach(ctx)
	t.cache.wrote(query)
	if st := t.stmts.in(ctx, t.Tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = t.bind(query, args)
	ctx = t.detach(ctx)
	t.cache.wrote(query)
	if st := t.stmts.in(ctx, t.Tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t sqlTx) detach(ctx context.Context) context.Context {
	if !t.group {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
