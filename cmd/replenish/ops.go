package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"replenish/storage/sqldb"
)

const migrateAbout = `Brings a database's schema up to date and reports it: every migration
built into this binary, when it was applied, and which this run applied.
serve does the same at every start; run migrate first when several
instances share a database, or to see what an upgrade will change.
Migrations only add: an older binary keeps working on a newer schema.
`

func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", migrateAbout, stderr)
	db := fs.String("db", "replenish.db", "the database: a SQLite `file` (made when missing) or a postgres:// URL")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	store, err := sqldb.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	all, applied, err := store.Migrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range all {
		fmt.Fprintf(stdout, "  %-28s applied %s\n", m.Name, m.AppliedAt.Local().Format("2006-01-02 15:04:05"))
	}
	switch len(applied) {
	case 0:
		fmt.Fprintf(stdout, "%s is up to date: %d migrations.\n", sqldb.Redact(*db), len(all))
	default:
		fmt.Fprintf(stdout, "%s: applied %d of %d migrations now.\n", sqldb.Redact(*db), len(applied), len(all))
	}
	return nil
}

const backupAbout = `Writes a consistent copy of a SQLite database to a new FILE while the
service keeps running on it (SQLite's VACUUM INTO: a snapshot, compacted).

  replenish backup --db replenish.db /backups/replenish-2026-12-02.db

To restore, stop the service and put the copy in the database's place
(with no -wal and -shm files beside it). For PostgreSQL use pg_dump; see
docs/operations.md.
`

func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", backupAbout, stderr)
	db := fs.String("db", "replenish.db", "the SQLite database `file` to copy")
	// The copy's file comes last, after the flags.
	var to string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") && (n < 2 || args[n-2] != "--db" && args[n-2] != "-db") {
		to, args = args[n-1], args[:n-1]
	}
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if sqldb.IsPostgres(*db) {
		return errors.New("backup copies a SQLite file; for PostgreSQL use pg_dump (docs/operations.md)")
	}
	if to == "" {
		fs.Usage()
		return errors.New("give the file to write the copy to: replenish backup --db replenish.db FILE")
	}
	start := time.Now()
	if err := sqldb.Backup(ctx, *db, to); err != nil {
		return err
	}
	info, err := os.Stat(to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Copied %s to %s (%.1f MB) in %s.\n", *db, to, float64(info.Size())/1e6, time.Since(start).Round(time.Millisecond))
	return nil
}
