package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"replenish"
	"replenish/catalog"
	"replenish/storage"
	"replenish/storage/sqldb"
)

func TestMigrate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"replenish", "migrate", "--db", db}, env(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	n := strings.Count(text, " applied 20")
	if n < 9 || !strings.Contains(text, "0009_forecast.sql") || !strings.Contains(text, fmt.Sprintf("applied %d of %d migrations now", n, n)) {
		t.Fatalf("first migrate:\n%s", text)
	}
	out.Reset()
	if err := run(context.Background(), []string{"replenish", "migrate", "--db", db}, env(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("is up to date: %d migrations", n)) {
		t.Fatalf("second migrate:\n%s", out.String())
	}
}

// TestBackup copies a database while another connection keeps writing to
// it: the copy is whole (SQLite's integrity check) and holds what was
// committed before the copy began.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	store, err := sqldb.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Write(ctx, func(tx storage.Tx) error { return catalog.Seed(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := store.Write(ctx, func(tx storage.Tx) error {
				return tx.InsertCustomer(ctx, replenish.Customer{CustomerID: fmt.Sprint("cu-", i), Email: fmt.Sprint(i, "@example.com"),
					Name: "n", Marketplace: "US", Locale: "en-US", CreatedAt: time.Now()})
			})
			if err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	before := written.Load()
	copyFile := filepath.Join(dir, "copy.db")
	var out bytes.Buffer
	err = run(ctx, []string{"replenish", "backup", "--db", db, copyFile}, env(nil), &out, &out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Copied "+db+" to "+copyFile) {
		t.Errorf("output: %s", out.String())
	}
	conn, err := sql.Open("sqlite", "file:"+copyFile+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	var customers, marketplaces int64
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity of the copy: %q %v", check, err)
	}
	conn.QueryRow("SELECT count(*) FROM customers").Scan(&customers)
	conn.QueryRow("SELECT count(*) FROM marketplaces").Scan(&marketplaces)
	if customers < before || marketplaces != int64(len(catalog.Marketplaces)) {
		t.Errorf("the copy has %d customers (at least %d were written before it) and %d marketplaces", customers, before, marketplaces)
	}

	// A file that exists is never overwritten; a missing database is said.
	for _, args := range [][]string{{"--db", db, copyFile}, {"--db", filepath.Join(dir, "none.db"), filepath.Join(dir, "x.db")}, {"--db", db}} {
		if err := run(ctx, append([]string{"replenish", "backup"}, args...), env(nil), &out, &out); err == nil {
			t.Errorf("backup %v: no error", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("backing up a missing database made it")
	}
}

func TestDays(t *testing.T) {
	for _, c := range []struct {
		in, out string
		ok      bool
	}{{"400d", "400d", true}, {"0", "0", true}, {"36h", "36h0m0s", true}, {"48h", "2d", true}, {" 7d ", "7d", true},
		{"-1d", "", false}, {"xd", "", false}, {"soon", "", false}, {"-5h", "", false}} {
		var d days
		err := d.Set(c.in)
		if (err == nil) != c.ok || (c.ok && d.String() != c.out) {
			t.Errorf("Set(%q) = %q, %v; want %q, ok %v", c.in, d.String(), err, c.out, c.ok)
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"replenish", "serve", "--keep-readings", "a year"}, env(nil), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "keep-readings") {
		t.Errorf("serve --keep-readings 'a year': %v, want an error naming the flag", err)
	}
}
