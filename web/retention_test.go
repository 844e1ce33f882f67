package web_test

import (
	"context"
	"testing"
	"time"

	"replenish"
)

// TestKeepReadings: readings that arrived longer ago than the retention
// leave the slot's history; newer ones, and the rest of the history, stay.
func TestKeepReadings(t *testing.T) {
	w := gwLinked(t)
	for _, level := range []string{"90", "80"} {
		w.e.clock.Advance(time.Minute)
		gwAccepted(t, w.e, w.tok.AccessToken, w.black(level))
	}
	w.e.clock.Advance(10 * 24 * time.Hour)
	w.refresh(t)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("70"))

	n, err := w.e.Server.Customers.DropReadings(context.Background(), 5*24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("DropReadings = %d, %v; want the 2 readings of ten days ago", n, err)
	}
	var readings []float64
	for _, h := range w.history(t, "") {
		if h.Type == replenish.HistoryReading {
			readings = append(readings, *h.Amount)
		}
	}
	if len(readings) != 1 || readings[0] != 70 {
		t.Errorf("readings left in the history: %v, want [70]", readings)
	}
	if n, err := w.e.Server.Customers.DropReadings(context.Background(), 5*24*time.Hour); err != nil || n != 0 {
		t.Errorf("a second pass deleted %d (%v), want 0", n, err)
	}
}
