package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/simulator"
	"replenish/storage"
	"replenish/storage/sqldb"
)

// TestShutdownKeepsAcknowledgedEvents shuts serve down while a vendor's
// cloud sends events over four connections: every event answered 202 is
// in the database afterwards, and every later one is refused with 503 or
// finds the server gone, never half-handled.
func TestShutdownKeepsAcknowledgedEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "shutdown.db")
	const key = "rk_op_shutdown_test_key"
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg := defaults(db)
	cfg.OperatorKey, cfg.LogLevel = key, slog.LevelError
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard, func(s started) { ready <- s.URL })
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped before it was ready: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var cloud *simulator.Cloud
	var cloudReady sync.WaitGroup
	cloudReady.Add(1)
	skill := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cloudReady.Wait()
		cloud.ServeHTTP(w, r)
	})}
	go skill.Serve(ln)
	defer skill.Close()
	api := &simulator.Client{URL: base, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.Register(context.Background(), api, key, "http://"+ln.Addr().String(), 10)
	if err != nil {
		t.Fatal(err)
	}
	cloud = simulator.NewCloud(simulator.Config{ReplenishURL: base, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, StartMin: 80, StartMax: 80, DrainMin: 1, DrainMax: 1,
		Rand: rand.New(rand.NewPCG(5, 5)), HTTP: &http.Client{Timeout: 10 * time.Second}})
	cloudReady.Done()
	if _, err := simulator.AddCustomer(context.Background(), api, key, v, "Shut Down"); err != nil {
		t.Fatal(err)
	}
	a := cloud.Accounts()[0]
	d := a.Devices[0]

	var (
		mu    sync.Mutex
		acked []string
		after []int // statuses once the server began to refuse
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id := replenish.NewUUID()
				status, _ := cloud.Report(context.Background(), a, d, id, time.Now())
				mu.Lock()
				if status != http.StatusAccepted {
					after = append(after, status)
					mu.Unlock()
					return
				}
				acked = append(acked, id)
				if len(acked) >= 40 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("40 events were not accepted within 30 seconds")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	wg.Wait()
	for _, status := range after {
		if status != http.StatusServiceUnavailable && status != 0 {
			t.Errorf("an event during shutdown got HTTP %d, want 503 or no answer", status)
		}
	}

	store, err := sqldb.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rollback := errors.New("only looking")
	missing := 0
	for _, id := range acked {
		err := store.Write(context.Background(), func(tx storage.Tx) error {
			fresh, err := tx.InsertEvent(context.Background(), storage.Event{VendorCode: v.VendorCode, MessageID: id,
				CustomerID: "x", Namespace: "Alexa", Name: "ChangeReport", Body: []byte("{}"), ReceivedAt: time.Now()})
			if err != nil {
				return err
			}
			if fresh {
				missing++
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d events answered 202 are not in the database after shutdown", missing, len(acked))
	}
	t.Logf("%d events acknowledged before and during shutdown, all stored; %d refused after", len(acked), len(after))
}
