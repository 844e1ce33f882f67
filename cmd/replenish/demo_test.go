package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemo runs "replenish demo" as a newcomer would and checks that,
// within its simulated minute, it shows a low supply and an order made
// through the real protocol, then keeps serving.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs for 20 seconds")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"replenish", "demo", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "demo.db"),
			"--duration", "20s", "--seed", "7"}, func(string) string { return "" }, &out, &logs)
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C to stop.") {
		select {
		case err := <-done:
			t.Fatalf("demo ended early: %v\n%s\n%s", err, out.String(), logs.String())
		case <-deadline:
			t.Fatalf("demo did not finish its simulation in a minute:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo: %v", err)
	}
	text := out.String()
	for _, want := range []string{"LOW_SUPPLY", "ORDER_PLACED", "mode AUTO", "mode NOTIFY", "Replenish keeps serving at http://127.0.0.1:",
		"/console/ signs in", "operator operator@demo.example  password ", "vendor   vendor@demo.example  password "} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "refused") {
		t.Errorf("the gateway refused reports of the demo:\n%s", text)
	}
}
