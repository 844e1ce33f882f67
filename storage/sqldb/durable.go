package sqldb

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Durability off the writer's path. The writer connection commits with
// synchronous=NORMAL: in WAL mode a commit then appends the group's frames
// to the write-ahead log without waiting for the disk. The syncer below
// makes them durable with an fsync of the log and only then answers the
// group's callers, while the writer already runs the next group. Groups
// are answered in commit order and an fsync covers every frame written
// before it, so an answer means that this group and all earlier ones are
// on disk. Why the log's frames cannot be lost once synced (checkpoints,
// the log's reset) is argued in docs/decisions.md.

// maxUnsynced is how many committed groups may wait for their fsync before
// the writer waits too.
const maxUnsynced = 64

// committed is a group whose commit waits for its fsync to be answered.
type committed struct {
	seq   uint64
	group []*write
}

// syncer makes committed groups durable and answers them.
type syncer struct {
	wal string // the write-ahead log's path
	dir string // its directory

	// The log whose directory entry is known durable: SQLite deletes the
	// log when the last connection closes and creates it anew, and a new
	// file's name must reach the disk too.
	known os.FileInfo

	mu     sync.Mutex
	cond   *sync.Cond
	synced uint64 // every group up to this one is durable (or failed)
}

func newSyncer(path string) *syncer {
	s := &syncer{wal: path + "-wal", dir: filepath.Dir(path)}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// run answers the groups of in, each after an fsync that covers it, until
// in is closed. An fsync answers every group waiting by then.
func (s *syncer) run(in <-chan committed) {
	for c := range in {
		batch := []committed{c}
	drain:
		for {
			select {
			case c, ok := <-in:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		err := s.sync()
		for _, c := range batch {
			for _, w := range c.group {
				if err != nil && w.err == nil && w.pnc == nil {
					w.err = unavailable(err)
				}
				close(w.done)
			}
		}
		s.mu.Lock()
		s.synced = batch[len(batch)-1].seq
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// sync makes every frame written to the log so far durable. A log that
// does not exist has been checkpointed into the database, which SQLite
// synced before deleting the log.
func (s *syncer) sync() error {
	f, err := os.Open(s.wal)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the write-ahead log: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the write-ahead log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sync the write-ahead log: %w", err)
	}
	if s.known != nil && os.SameFile(s.known, fi) {
		return nil
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("sync the database's directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync the database's directory: %w", err)
	}
	s.known = fi
	return nil
}

// wait returns once every group up to seq is durable.
func (s *syncer) wait(seq uint64) {
	s.mu.Lock()
	for s.synced < seq {
		s.cond.Wait()
	}
	s.mu.Unlock()
}
