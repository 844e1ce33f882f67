package main

import (
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"replenish"
	"replenish/simulator"
	"replenish/storage/sqldb"
)

// TestKillMQTT kills the server with SIGKILL while CONNECT_KIT devices
// send bursts of events over MQTT, restarts it on the same file and
// broker address, and lets the devices go on: each resends what got no
// ack, with the same message ID. Every event acked before the kill is in
// the database, and every event is there exactly once.
func TestKillMQTT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	dir := t.TempDir()
	bin := buildChild(t, dir)
	db := filepath.Join(dir, "kill-mqtt.db")
	operatorKey := replenish.NewSecret("rk_op_")
	// One address for both lives of the server, so that devices find it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	flags := []string{"--mqtt-listen", addr, "--device-rate", "0", "--report-state-after", "0"}
	srv := startChild(t, bin, db, operatorKey, flags...)

	w := newKitWorld(t, srv.url, "tcp://"+addr, operatorKey)
	const kits, perKit = 16, 80
	serials := make([]string, kits)
	for i := range serials {
		serials[i] = fmt.Sprintf("SN-%02d", i)
	}
	ps := w.provision(t, serials...)
	for _, p := range ps {
		if err := w.claim(t, p.ClaimCode, p.SerialNumber); err != nil {
			t.Fatal(err)
		}
	}
	st := simulator.NewStats()
	var (
		mu          sync.Mutex
		acked       []string // device/messageId, as the events table keys them
		ackedBefore atomic.Int64
		killed      atomic.Bool
		wg          sync.WaitGroup
	)
	for _, p := range ps {
		k := w.kit(t, p, st)
		k.AckTimeout, k.Attempts = time.Second, 60
		wg.Go(func() {
			for i := range perKit {
				k.Levels[0] = float64(90 - i)
				id := fmt.Sprintf("k%d", i)
				status, err := k.Report(t.Context(), id, time.Now().UTC())
				if status != 202 {
					t.Errorf("%s event %s: %d %v", p.DeviceID, id, status, err)
					return
				}
				mu.Lock()
				acked = append(acked, p.DeviceID+"/"+id)
				mu.Unlock()
				if !killed.Load() {
					ackedBefore.Add(1)
				}
			}
		})
	}
	for deadline := time.Now().Add(20 * time.Second); ackedBefore.Load() < 300 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	srv.kill()
	before := ackedBefore.Load()
	startChild(t, bin, db, operatorKey, flags...)
	wg.Wait()

	mu.Lock()
	ids := acked
	mu.Unlock()
	found := countEvents(t, db, ids)
	raw, err := sqldb.OpenRaw(db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var stored int
	if err := raw.QueryRow(`SELECT count(*) FROM events WHERE message_id LIKE 'dev_%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	s := st.Summary()
	t.Logf("%d devices sent %d events each: %d acked before SIGKILL, %d in all after the restart, %d sends again for want of an ack; %d events stored",
		kits, perKit, before, len(ids), s.Resent, stored)
	if before == 0 || s.Resent == 0 {
		t.Fatalf("the kill came before any ack (%d) or cost no resend (%d): it tested nothing", before, s.Resent)
	}
	if len(ids) != kits*perKit || found != len(ids) || stored != kits*perKit {
		t.Fatalf("acked %d of %d, %d of them in the database, %d events stored: want every event acked, kept, once",
			len(ids), kits*perKit, found, stored)
	}
}
