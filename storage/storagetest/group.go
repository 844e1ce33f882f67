package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"replenish"
	"replenish/storage"
)

// A store may run concurrent writes in one transaction (group commit).
// These tests hold it to what each caller of Write must still see: its
// own outcome, whatever the writes beside it do.

// burst runs fn(i) for i in [0, n) from n goroutines released at once,
// so that their writes arrive together, and returns each one's error.
func burst(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// feedMessages returns the messages of cust1's feed, as a set.
func feedMessages(t *testing.T, s storage.Store) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		fs, err := tx.Feed(ctx, cust1, 100000)
		for _, f := range fs {
			seen[f.Message] = true
		}
		return err
	})
	return seen
}

func feedEntry(msg string) replenish.FeedEntry {
	return replenish.FeedEntry{CustomerID: cust1, Type: replenish.FeedLowSupply, Message: msg, CreatedAt: t0}
}

func testGroupFailingMember(t *testing.T, s storage.Store) {
	// Every third write fails after writing: with its own error, or with
	// the store's conflict on a vendor that exists. Neither may leave a
	// trace, nor cost the writes beside it theirs.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorA), []byte("h"))
	})
	errBoom := errors.New("boom")
	const n = 120
	errs := burst(n, func(i int) error {
		return tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
			if err := tx.InsertFeed(ctx, feedEntry(fmt.Sprintf("w%d", i))); err != nil {
				return err
			}
			switch i % 6 {
			case 2:
				return errBoom
			case 5:
				return tx.InsertVendor(ctx, vendor(vendorA), []byte("h"))
			}
			return nil
		})
	})
	seen := feedMessages(t, s)
	for i, err := range errs {
		msg := fmt.Sprintf("w%d", i)
		switch i % 6 {
		case 2:
			if !errors.Is(err, errBoom) {
				t.Errorf("write %d returned %v, want its own error", i, err)
			}
		case 5:
			wantCode(t, err, replenish.EConflict, fmt.Sprintf("write %d", i))
		default:
			if err != nil {
				t.Errorf("write %d returned %v beside failing writes", i, err)
			}
			if !seen[msg] {
				t.Errorf("write %d succeeded but its entry is missing", i)
			}
			continue
		}
		if seen[msg] {
			t.Errorf("write %d failed but its entry is in the feed", i)
		}
	}
	if want := n - 2*n/6; len(seen) != want {
		t.Errorf("feed has %d entries, want %d", len(seen), want)
	}
}

func testGroupSameRows(t *testing.T, s storage.Store) {
	// Writers that collide on the same key: exactly one wins, the others
	// get a conflict, and a write that ran after a failed one in the same
	// group still sees the store as the failed one found it.
	const n = 60
	errs := burst(n, func(i int) error {
		return tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
			if err := tx.InsertVendor(ctx, vendor(vendorB), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
			return tx.InsertFeed(ctx, feedEntry(fmt.Sprintf("winner %d", i)))
		})
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("writes %d and %d both inserted vendor %s", won, i, vendorB)
		case err == nil:
			won = i
		default:
			wantCode(t, err, replenish.EConflict, fmt.Sprintf("write %d", i))
		}
	}
	if won < 0 {
		t.Fatal("no write inserted the vendor")
	}
	seen := feedMessages(t, s)
	if len(seen) != 1 || !seen[fmt.Sprintf("winner %d", won)] {
		t.Errorf("feed is %v, want only the winner's entry %d", seen, won)
	}
}

func testGroupConcurrentDurable(t *testing.T, s storage.Store) {
	// Every write that returned nil is there for the next read, each
	// exactly once, however many arrived together.
	const n = 400
	errs := burst(n, func(i int) error {
		return tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.InsertFeed(ctx, feedEntry(fmt.Sprintf("w%d", i)))
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var got int
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		fs, err := tx.Feed(ctx, cust1, 2*n)
		got = len(fs)
		return err
	})
	if seen := feedMessages(t, s); got != n || len(seen) != n {
		t.Errorf("feed has %d entries (%d distinct), want %d", got, len(seen), n)
	}
}

func testGroupPanic(t *testing.T, s storage.Store) {
	// A panic in fn reaches the caller like any panic of its own code; its
	// writes are undone, the writes beside it commit, and the store goes
	// on taking writes.
	const n = 40
	panicked := make([]any, n)
	errs := burst(n, func(i int) (err error) {
		defer func() { panicked[i] = recover() }()
		return tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
			if err := tx.InsertFeed(ctx, feedEntry(fmt.Sprintf("w%d", i))); err != nil {
				return err
			}
			if i%4 == 1 {
				panic(fmt.Sprintf("panic %d", i))
			}
			return nil
		})
	})
	seen := feedMessages(t, s)
	for i := range n {
		msg := fmt.Sprintf("w%d", i)
		if i%4 == 1 {
			if panicked[i] != fmt.Sprintf("panic %d", i) {
				t.Errorf("write %d: caller recovered %v, want its panic", i, panicked[i])
			}
			if seen[msg] {
				t.Errorf("write %d panicked but its entry is in the feed", i)
			}
			continue
		}
		if errs[i] != nil || panicked[i] != nil || !seen[msg] {
			t.Errorf("write %d beside panics: error %v, panic %v, stored %v", i, errs[i], panicked[i], seen[msg])
		}
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertFeed(ctx, feedEntry("after"))
	})
	if !feedMessages(t, s)["after"] {
		t.Error("a write after the panics is missing")
	}
}

func testGroupCanceled(t *testing.T, s storage.Store) {
	// A caller that has given up before its write ran gets its context's
	// error and writes nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Write(ctx, func(tx storage.Tx) error {
		return tx.InsertFeed(ctx, feedEntry("canceled"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context returned %v", err)
	}
	if feedMessages(t, s)["canceled"] {
		t.Error("a canceled write is in the feed")
	}
}
