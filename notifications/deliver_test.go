package notifications_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"replenish"
	"replenish/console"
	"replenish/notifications"
	"replenish/storage"
	"replenish/storage/sqldb"
)

// BenchmarkDeliver measures the worker: b.N vendor webhooks queued, one
// pass of Deliver sends them all to one local receiver, which answers at
// once; each is sent, then recorded, in turn (receivers get their
// notifications in order). Also with 8 receivers, sent side by side.
// Run with a fixed count: -benchtime 5000x.
func BenchmarkDeliver(b *testing.B) {
	for _, receivers := range []int{1, 8} {
		b.Run(map[int]string{1: "one receiver", 8: "eight receivers"}[receivers], func(b *testing.B) {
			benchDeliver(b, receivers)
		})
	}
}

func benchDeliver(b *testing.B, receivers int) {
	ctx := context.Background()
	store, err := sqldb.OpenSQLite(ctx, filepath.Join(b.TempDir(), "notify.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	con := console.New(store, time.Now)
	if _, err := con.Bootstrap(ctx, "rk_op_bench_operator_key"); err != nil {
		b.Fatal(err)
	}
	if _, err := con.CreateVendor(ctx, "acme", "Acme"); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	var urls []string
	for range receivers {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got.Add(1)
		}))
		defer hook.Close()
		urls = append(urls, hook.URL)
	}
	now := time.Now().UTC()
	if err := store.Write(ctx, func(tx storage.Tx) error {
		for i := range b.N {
			id := replenish.NewUUID()
			if err := tx.InsertNotification(ctx, storage.Notification{ID: id, Channel: storage.ChannelVendor,
				Type: notifications.OrderPlaced, VendorCode: "acme", Target: urls[i%receivers],
				Body:   []byte(`{"notificationInfo":{"notificationType":"OrderPlacedNotification","notificationId":"` + id + `"}}`),
				Status: storage.NotificationPending, NextAt: now, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	ntf := notifications.New(store, time.Now, &http.Client{Timeout: 10 * time.Second}, slog.New(slog.DiscardHandler), "http://replenish.example")
	b.ResetTimer()
	n, err := ntf.Deliver(ctx)
	b.StopTimer()
	if err != nil || n != b.N || got.Load() != int64(b.N) {
		b.Fatalf("delivered %d of %d (%d arrived): %v", n, b.N, got.Load(), err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
}
