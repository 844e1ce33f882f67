package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Readings on PostgreSQL are partitioned by the month they were sampled
// in (migrations/postgres/0001_init.sql), so that retention drops a whole
// month with DROP TABLE instead of deleting its rows one by one. The
// months are created ahead of time, from the month before this one to
// monthsAhead after it, when the database opens and every day after that;
// a reading outside them lands in the default partition, from which
// retention deletes row by row.

// monthsAhead is how many months after this one have their partition.
const monthsAhead = 3

// partitionsEvery is how often the months ahead are created.
const partitionsEvery = 24 * time.Hour

// partitionPrefix names a month's partition: readings_p202612.
const partitionPrefix = "readings_p"

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ensurePartitions creates the readings partitions of the months around
// now that do not exist yet. Instances doing it at once take turns.
func (db *DB) ensurePartitions(ctx context.Context, now time.Time) error {
	t, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer t.Rollback()
	if _, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock+1); err != nil {
		return err
	}
	have, err := partitions(ctx, t)
	if err != nil {
		return err
	}
	start := monthStart(now).AddDate(0, -1, 0)
	for i := 0; i <= monthsAhead+1; i++ {
		from := start.AddDate(0, i, 0)
		name := partitionPrefix + from.Format("200601")
		if _, ok := have[name]; ok {
			continue
		}
		to := from.AddDate(0, 1, 0)
		if _, err := t.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %s PARTITION OF readings FOR VALUES FROM (%d) TO (%d)`,
			name, from.UnixMicro(), to.UnixMicro())); err != nil {
			return fmt.Errorf("readings partition %s: %w", name, err)
		}
	}
	return t.Commit()
}

// partitions returns the monthly partitions of readings by name, with the
// start of their month.
func partitions(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]time.Time, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'readings'::regclass`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		month, ok := strings.CutPrefix(name, partitionPrefix)
		if !ok {
			continue
		}
		if at, err := time.Parse("200601", month); err == nil {
			out[name] = at
		}
	}
	return out, rows.Err()
}

// keepPartitions creates the months ahead every partitionsEvery until the
// database closes.
func (db *DB) keepPartitions() {
	go func() {
		tick := time.NewTicker(partitionsEvery)
		defer tick.Stop()
		for {
			select {
			case <-db.quit:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				db.ensurePartitions(ctx, time.Now())
				cancel()
			}
		}
	}()
}

// deleteReadingsPG drops the months that ended before before, whole, and
// then deletes up to limit of the readings received before it that are
// left (in the month that straddles it, or the default partition).
func (t *tx) deleteReadingsPG(ctx context.Context, before time.Time, limit int) (int, error) {
	have, err := partitions(ctx, t.tx)
	if err != nil {
		return 0, err
	}
	dropped := 0
	for name, from := range have {
		if from.AddDate(0, 1, 0).After(before) {
			continue
		}
		var n int
		if err := t.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			return 0, err
		}
		if _, err := t.tx.ExecContext(ctx, "DROP TABLE "+name); err != nil {
			return 0, fmt.Errorf("drop readings partition %s: %w", name, err)
		}
		dropped += n
	}
	// A reading is sampled before it is received: the bound on sample_at
	// (with a day for clocks that run ahead) leaves the later months out.
	res, err := t.exec(ctx, "readings", `DELETE FROM readings WHERE (slot, sample_at) IN (
		SELECT slot, sample_at FROM readings WHERE sample_at < ? AND received_at < ? LIMIT ?)`,
		before.Add(24*time.Hour).UnixMicro(), before.UnixMicro(), limit)
	if err != nil {
		return dropped, err
	}
	n, err := res.RowsAffected()
	return dropped + int(n), err
}
