package sqldb

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

// A database that cannot grow (SQLite's max_page_count gives the real
// "database or disk is full" error) refuses a write as unavailable, so
// that the client retries, and keeps nothing of it; once there is room,
// the same write goes through.
func TestFullDatabaseIsUnavailable(t *testing.T) {
	ctx := t.Context()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pragma := func(q string) {
		t.Helper()
		if err := db.Write(ctx, func(st storage.Tx) error {
			_, err := st.(*tx).tx.ExecContext(ctx, q)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	entry := func(msg string) replenish.FeedEntry {
		return replenish.FeedEntry{CustomerID: "c1", Type: replenish.FeedLowSupply, Message: msg, CreatedAt: time.Now()}
	}
	feed := func() []string {
		t.Helper()
		var got []string
		if err := db.Read(ctx, func(tx storage.Tx) error {
			es, err := tx.Feed(ctx, "c1", 100)
			for _, e := range es {
				got = append(got, e.Message[:min(len(e.Message), 5)])
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// The file may not grow past its size now (SQLite sets the limit to
	// no less than that).
	pragma("PRAGMA max_page_count = 1")
	big := entry(strings.Repeat("x", 1<<20))
	if err := db.Write(ctx, func(tx storage.Tx) error { return tx.InsertFeed(ctx, entry("small")) }); err != nil {
		t.Fatalf("a write that fits: %v", err)
	}
	err = db.Write(ctx, func(tx storage.Tx) error { return tx.InsertFeed(ctx, big) })
	var e *replenish.Error
	if !errors.As(err, &e) || e.Code != replenish.EUnavailable {
		t.Fatalf("a write to a full database: %v, want code %s", err, replenish.EUnavailable)
	}
	if got := feed(); len(got) != 1 || got[0] != "small" {
		t.Fatalf("feed after the full database: %v, want only the small entry", got)
	}

	pragma("PRAGMA max_page_count = 1000000")
	if err := db.Write(ctx, func(tx storage.Tx) error { return tx.InsertFeed(ctx, big) }); err != nil {
		t.Fatalf("the same write once there is room: %v", err)
	}
	if got := feed(); len(got) != 2 {
		t.Fatalf("feed after the retry: %v, want 2 entries", got)
	}
}
