package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"replenish/metrics"
	"replenish/storage"
)

// Group commit. A durable commit costs an fsync, which takes far longer
// than the few statements of a typical write. So concurrent writers do
// not each pay for one: they queue, and one goroutine, owning the single
// writer connection, runs as many of them as are waiting inside one
// transaction, each in its own savepoint, and commits once. A lone writer
// commits at once; a group only forms when writers arrive while another
// is running, and it is bounded so that a steady stream cannot hold a
// commit back indefinitely.
//
// When no writer is waiting, the group yields the processor once before it
// commits, and takes whoever queued meanwhile. On a busy machine, requests
// are being read and parsed on the same cores, and the yield lets them
// reach the queue: commits carry two to three times as many writes, and
// each write costs less (docs/benchmarks.md). On an idle machine nothing
// else is ready to run and the yield returns at once.
const (
	// maxGroup is the most writes one commit carries.
	maxGroup = 256
	// maxGroupTime is how long a group keeps taking writers that arrive
	// while it runs; the commit follows as soon as none is waiting.
	maxGroupTime = 10 * time.Millisecond
)

// pgWriters is how many groups run at once on PostgreSQL, each on a
// connection of its own. A statement there is a round trip to the server,
// and one group at a time would leave both idle most of the time.
const pgWriters = 4

// maxGroupPG bounds a group on PostgreSQL lower: each member is a
// subtransaction, and past 64 in one transaction PostgreSQL's snapshots
// of it get slower for every other session.
const maxGroupPG = 64

// maxRetries is how often a member undone for a lock held by another
// instance (postgres.go) runs again before its caller is told to retry.
const maxRetries = 10

// write is one caller's fn, waiting for its group.
type write struct {
	ctx  context.Context
	fn   func(storage.Tx) error
	err  error
	pnc  any // what fn panicked with, re-raised in the caller
	done chan struct{}
	// retry is set when fn was undone for a lock another instance holds,
	// to run again in the next group; tries counts its runs.
	retry bool
	tries int
}

// errClosed answers writes after Close.
var errClosed = errors.New("sqldb: the database is closed")

// startWriter starts the goroutine that runs write groups on the writer
// connection until db.quit is closed.
func (db *DB) startWriter() {
	writers := 1
	if db.pg {
		writers = pgWriters
	} else {
		db.prepared = newStatements(db.writer)
		db.cache = newWriterCache()
	}
	db.writes = make(chan *write)
	db.quit = make(chan struct{})
	db.stopped = make(chan struct{})
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for {
				select {
				case w := <-db.writes:
					for again := []*write{w}; len(again) > 0; {
						again = db.runGroup(again)
					}
					db.prepared.prepare(context.Background())
				case <-db.quit:
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		db.prepared.close()
		close(db.stopped)
	}()
}

// stopWriter ends the writer goroutine once the group it runs, if any,
// has committed.
func (db *DB) stopWriter() {
	db.closeOnce.Do(func() { close(db.quit) })
	<-db.stopped
}

// Write runs fn inside the next group transaction, in a savepoint of its
// own, and returns once the group has committed. An error (or panic) of
// fn undoes fn's work only; a failed commit is every member's error.
func (db *DB) Write(ctx context.Context, fn func(storage.Tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.writes <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.quit:
		return unavailable(errClosed)
	}
	<-w.done
	if w.pnc != nil {
		panic(w.pnc)
	}
	return w.err
}

// runGroup runs first (one new write, or those to run again) and whoever
// queues behind them, within the bounds, in one transaction, then commits
// and answers them all, but for those to run again, which it returns.
func (db *DB) runGroup(first []*write) (again []*write) {
	group := slices.Clone(first)
	defer func() {
		for _, w := range group {
			if w.retry {
				again = append(again, w)
			} else {
				close(w.done)
			}
		}
	}()
	// The group's transaction outlives any one caller's context: a caller
	// that gives up must not roll back the others' work.
	st, err := db.writer.BeginTx(context.Background(), nil)
	if err != nil {
		for _, w := range group {
			w.err, w.retry = unavailable(err), false
		}
		return nil
	}
	t := &tx{tx: sqlTx{Tx: st, stmts: db.prepared, cache: db.cache, group: true, pg: db.pg}}
	for _, w := range group {
		if err := db.member(t, w); err != nil {
			db.abort(st, group, err)
			return nil
		}
	}
	limit := maxGroup
	if db.pg {
		limit = maxGroupPG
	}
	deadline := time.Now().Add(maxGroupTime)
	yielded := false
	for len(group) < limit && time.Now().Before(deadline) {
		var w *write
		select {
		case w = <-db.writes:
		default:
		}
		if w == nil {
			if yielded {
				break
			}
			yielded = true
			runtime.Gosched()
			continue
		}
		yielded = false
		group = append(group, w)
		if err := db.member(t, w); err != nil {
			db.abort(st, group, err)
			return nil
		}
	}
	if err := st.Commit(); err != nil {
		db.abort(st, group, err)
		return nil
	}
	metrics.GroupCommit(len(group))
	return nil
}

// member runs w's fn in a savepoint of t. fn's own failure is kept in w
// and undone; the error returned is the group's: the transaction itself
// is broken.
func (db *DB) member(t *tx, w *write) error {
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return nil
	}
	if _, err := t.tx.ExecContext(context.Background(), "SAVEPOINT member"); err != nil {
		return err
	}
	w.pnc, w.err = call(w.fn, t)
	w.tries++
	w.retry = w.pnc == nil && retryable(w.err) && w.tries < maxRetries
	w.err = transient(w.err)
	if w.err == nil && w.pnc == nil {
		db.cache.keep()
		_, err := t.tx.ExecContext(context.Background(), "RELEASE member")
		return err
	}
	db.cache.rollback()
	// Some errors (an interrupted statement, a full disk) make SQLite roll
	// back the whole transaction; then the savepoint is gone too, and the
	// group fails.
	if _, err := t.tx.ExecContext(context.Background(), "ROLLBACK TO member"); err != nil {
		return fmt.Errorf("undo a failed write: %w", err)
	}
	_, err := t.tx.ExecContext(context.Background(), "RELEASE member")
	return err
}

// call runs fn, turning a panic into a value to re-raise in the caller.
func call(fn func(storage.Tx) error, t *tx) (pnc any, err error) {
	defer func() {
		if p := recover(); p != nil {
			pnc = p
		}
	}()
	return nil, fn(t)
}

// abort rolls the group back: every member that had succeeded gets err.
func (db *DB) abort(st *sql.Tx, group []*write, err error) {
	st.Rollback()
	db.cache.clear()
	for _, w := range group {
		if w.err == nil && w.pnc == nil || w.retry {
			w.err, w.retry = unavailable(err), false
		}
	}
}
