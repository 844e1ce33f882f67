package sqldb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"replenish"
	"replenish/storage"
)

// A group is answered only by the syncer, after its fsync; a failed fsync
// answers every write that had succeeded with 503, not success, and a
// write's own error stands.
func TestSyncerAnswersAfterTheFsync(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "replenish.db")
	if err := os.WriteFile(path+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSyncer(path)
	in := make(chan committed, 2)
	done := make(chan struct{})
	go func() { defer close(done); s.run(in) }()

	ok := &write{done: make(chan struct{})}
	in <- committed{seq: 1, group: []*write{ok}}
	s.wait(1)
	<-ok.done
	if ok.err != nil {
		t.Fatalf("a synced write got %v", ok.err)
	}
	if s.known == nil {
		t.Fatal("the log's directory entry was not synced")
	}

	// A log the syncer cannot open (its directory is a file) fails the fsync.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s.wal = filepath.Join(blocker, "replenish.db-wal")
	own := errors.New("the write's own error")
	good := &write{done: make(chan struct{})}
	bad := &write{err: own, done: make(chan struct{})}
	in <- committed{seq: 2, group: []*write{good, bad}}
	close(in)
	<-done
	var e *replenish.Error
	if !errors.As(good.err, &e) || e.Code != replenish.EUnavailable {
		t.Fatalf("a write whose fsync failed got %v, want unavailable", good.err)
	}
	if bad.err != own {
		t.Fatalf("a failed write got %v, want its own error", bad.err)
	}
	if s.synced != 2 {
		t.Fatalf("synced = %d, want 2", s.synced)
	}
}

// A log that does not exist was checkpointed into the database and
// deleted: there is nothing to sync.
func TestSyncerWithoutALog(t *testing.T) {
	s := newSyncer(filepath.Join(t.TempDir(), "replenish.db"))
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
}

// Write returns only once the syncer has made its group durable.
func TestWriteIsAnsweredThroughTheSyncer(t *testing.T) {
	db, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := db.groups.Load()
	if err := db.Write(t.Context(), func(storage.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	db.durable.mu.Lock()
	synced := db.durable.synced
	db.durable.mu.Unlock()
	if synced <= before {
		t.Fatalf("Write returned before its group was synced (synced %d, group %d)", synced, before+1)
	}
}
