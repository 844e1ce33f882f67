package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the driver the service uses, for bulk seeding

	"replenish"
	"replenish/storage/sqldb"
)

// Slot is one inventory sensor of the benchmark's device model.
type Slot struct {
	SlotID, Instance, Name, ReplenishmentID, ProductID string
}

// Fleet is what the seeding needs to know of the vendor the devices
// belong to; the service must already know the vendor, its model and the
// slots' replenishment IDs.
type Fleet struct {
	VendorCode string
	ModelID    string
	Slots      []Slot
}

// Device is a seeded endpoint the load generator reports for.
type Device struct {
	EndpointID string
	Token      string // its customer's access token
}

// openBulk opens the service's SQLite file for bulk loading. The seeding
// runs while the service is idle, so it trades durability for speed:
// a seed interrupted by a crash is simply redone. A PostgreSQL database
// is opened as it is.
func openBulk(path string) (*sql.DB, error) {
	if sqldb.IsPostgres(path) {
		return sqldb.OpenRaw(path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "cache_size(-262144)")
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// SeedDevices gives n new customers, each with an access token for the
// fleet's vendor and one device with all the model's slots, and returns
// the devices. Names start with prefix, which must be new to the file.
func SeedDevices(ctx context.Context, path, prefix string, f Fleet, n int, now time.Time) ([]Device, error) {
	db, err := openBulk(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	for name, query := range map[string]string{
		"customer": `INSERT INTO customers (customer_id, email, name, marketplace, locale, created_at)
			VALUES (?, ?, ?, 'US', 'en-US', ?)`,
		"link": `INSERT INTO links (customer_id, vendor_code, status, grantee_token, updated_at)
			VALUES (?, ?, 'LINKED', '', ?)`,
		"grant": `INSERT INTO grants (grant_hash, kind, vendor_code, customer_id, expires_at)
			VALUES (?, 'access', ?, ?, ?)`,
		"endpoint": `INSERT INTO endpoints (customer_id, endpoint_id, vendor_code, model_id, friendly_name, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		"slot": `INSERT INTO endpoint_slots (endpoint, instance, slot_id, name, replenishment_id, mode, product_id)
			VALUES (?, ?, ?, ?, ?, 'NOTIFY', ?)`,
	} {
		if stmts[name], err = tx.PrepareContext(ctx, sqldb.Bind(path, query)); err != nil {
			return nil, fmt.Errorf("seed devices: %w", err)
		}
	}
	at := now.UnixMicro()
	// Tokens live a day: longer than any run.
	expires := now.Add(24 * time.Hour).UnixMicro()
	devices := make([]Device, n)
	for i := range n {
		cid := fmt.Sprintf("%s-c%07d", prefix, i)
		d := Device{EndpointID: fmt.Sprintf("%s-printer-%07d", prefix, i), Token: replenish.NewSecret("Atza|")}
		var key int64
		err := firstErr(
			exec(ctx, stmts["customer"], cid, cid+"@bench.example", "Bench customer", at),
			exec(ctx, stmts["link"], cid, f.VendorCode, at),
			exec(ctx, stmts["grant"], replenish.HashSecret(d.Token), f.VendorCode, cid, expires),
			stmts["endpoint"].QueryRowContext(ctx, cid, d.EndpointID, f.VendorCode, f.ModelID, "Printer", at, at).Scan(&key),
		)
		for _, s := range f.Slots {
			err = firstErr(err, exec(ctx, stmts["slot"], key, s.Instance, s.SlotID, s.Name, s.ReplenishmentID, s.ProductID))
		}
		if err != nil {
			return nil, fmt.Errorf("seed device %d: %w", i, err)
		}
		devices[i] = d
	}
	return devices, tx.Commit()
}

func exec(ctx context.Context, s *sql.Stmt, args ...any) error {
	_, err := s.ExecContext(ctx, args...)
	return err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Preload fills the file, once, with endpoints customers of the fleet's
// vendor, one device each with all the model's slots, and readings spread
// evenly over those slots (a history of older samples). It runs inside
// SQLite, set-wise, in chunks whose progress goes to progress. A file
// preloaded before with the same figures is left as it is; one preloaded
// with other figures is an error.
func Preload(ctx context.Context, path string, f Fleet, endpoints, readings int, now time.Time, progress io.Writer) error {
	if sqldb.IsPostgres(path) {
		return fmt.Errorf("preloading fills a SQLite file; it does not run on PostgreSQL")
	}
	db, err := openBulk(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var haveEndpoints, haveReadings int
	var firstSlot, lastSlot sql.NullInt64
	preloadedSlots := `SELECT min(s.id), max(s.id) FROM endpoint_slots s JOIN endpoints e ON e.id = s.endpoint
		WHERE e.customer_id >= 'pre-' AND e.customer_id < 'pre.'`
	err = firstErr(
		db.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE customer_id >= 'pre-' AND customer_id < 'pre.'`).Scan(&haveEndpoints),
		db.QueryRowContext(ctx, preloadedSlots).Scan(&firstSlot, &lastSlot))
	if err == nil && haveEndpoints > 0 {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM readings WHERE slot BETWEEN ? AND ?`, firstSlot, lastSlot).Scan(&haveReadings)
	}
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	if haveEndpoints > 0 {
		if haveEndpoints != endpoints || haveReadings != readings {
			return fmt.Errorf("preload: %s holds %d preloaded endpoints and %d readings, not %d and %d; use another file",
				path, haveEndpoints, haveReadings, endpoints, readings)
		}
		fmt.Fprintf(progress, "preload: reusing %d endpoints and %d readings already in %s\n", endpoints, readings, path)
		return nil
	}

	// Sequence numbers come from a recursive CTE, so that each chunk is
	// one statement per table, run inside SQLite.
	const seq = `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) `
	at := now.UnixMicro()
	start := time.Now()
	const chunk = 100_000
	for lo := 0; lo < endpoints; lo += chunk {
		hi := min(lo+chunk, endpoints)
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, seq+`INSERT INTO customers (customer_id, email, name, marketplace, locale, created_at)
				SELECT printf('pre-c%08d', i), printf('pre-c%08d@bench.example', i), 'Preloaded customer', 'US', 'en-US', ? FROM n`,
				lo, hi, at); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, seq+`INSERT INTO endpoints (customer_id, endpoint_id, vendor_code, model_id, friendly_name, created_at, updated_at)
				SELECT printf('pre-c%08d', i), printf('pre-printer-%08d', i), ?, ?, 'Printer', ?, ? FROM n`,
				lo, hi, f.VendorCode, f.ModelID, at, at); err != nil {
				return err
			}
			for _, s := range f.Slots {
				if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_slots (endpoint, instance, slot_id, name, replenishment_id, mode, product_id)
					SELECT id, ?, ?, ?, ?, 'NOTIFY', ? FROM endpoints
					WHERE customer_id >= printf('pre-c%08d', ?) AND customer_id < printf('pre-c%08d', ?)`,
					s.Instance, s.SlotID, s.Name, s.ReplenishmentID, s.ProductID, lo, hi); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("preload endpoints %d-%d: %w", lo, hi, err)
		}
		fmt.Fprintf(progress, "preload: %d/%d endpoints (%s)\n", hi, endpoints, time.Since(start).Round(time.Second))
	}

	// Readings go to the preloaded slots in the order of their keys, the
	// order of the readings' primary key, so that SQLite appends.
	if err := db.QueryRowContext(ctx, preloadedSlots).Scan(&firstSlot, &lastSlot); err != nil {
		return fmt.Errorf("preload readings: %w", err)
	}
	slots := int(lastSlot.Int64 - firstSlot.Int64 + 1)
	if slots != endpoints*len(f.Slots) {
		return fmt.Errorf("preload readings: the preloaded slots are not contiguous (%d keys for %d slots)", slots, endpoints*len(f.Slots))
	}
	// Slot k gets perSlot readings, the first extra of them one more, an
	// hour apart, ending a day ago.
	perSlot, extra := readings/slots, readings%slots
	const hour = int64(time.Hour / time.Microsecond)
	end := now.Add(-24 * time.Hour).UnixMicro()
	done := 0
	const slotChunk = 200_000
	for lo := 0; lo < slots; lo += slotChunk {
		hi := min(lo+slotChunk, slots)
		res := 0
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			r, err := tx.ExecContext(ctx, seq+`, k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < ?)
				INSERT INTO readings (slot, sample_at, amount, received_at)
				SELECT ? + i, ? - j * ?, 100 - j % 100, ? - j * ? FROM n, k
				WHERE j < ? + (i < ?)
				ORDER BY i, j DESC`,
				lo, hi, perSlot+1, firstSlot.Int64, end, hour, end, hour, perSlot, extra)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			res = int(n)
			return err
		})
		if err != nil {
			return fmt.Errorf("preload readings of slots %d-%d: %w", lo, hi, err)
		}
		done += res
		fmt.Fprintf(progress, "preload: %d/%d readings (%s)\n", done, readings, time.Since(start).Round(time.Second))
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("preload checkpoint: %w", err)
	}
	return nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
