package mail

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"replenish"
)

// syncBuffer is a bytes.Buffer safe to write from the sink's connections.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSink sends to the sink in "none" mode, several messages at once, and
// reads them back with a one-line summary each.
func TestSink(t *testing.T) {
	var out syncBuffer
	sink, err := NewSink(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s, err := NewSMTP(sink.Config("Replenish <noreply@replenish.example>"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			no := notice(replenish.FeedOrderPlaced, "de-DE")
			no.NotificationID = fmt.Sprintf("ntf-%d", 42+i)
			no.Quantity = 2
			m, err := Render(no)
			if err == nil {
				err = s.Send(context.Background(), m)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := sink.Received()
	if len(got) != n {
		t.Fatalf("%d messages", len(got))
	}
	want := notice(replenish.FeedOrderPlaced, "de-DE")
	want.Quantity = 2
	m, err := Render(want)
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	for _, r := range got {
		if r.From != "noreply@replenish.example" || len(r.To) != 1 || r.To[0] != "anna@example.com" {
			t.Errorf("envelope from %q to %v", r.From, r.To)
		}
		if h, err := r.Header(); err == nil && h.Get("Message-Id") == m.MessageID {
			checkMessage(t, r.Data, m)
			checked = true
		}
	}
	if !checked {
		t.Errorf("no message %s", m.MessageID)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n {
		t.Fatalf("summary:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `e-mail to <anna@example.com>: "Bestellung aufgegeben: 2 × AquaPure filter, 3-pack" <ntf-`) {
			t.Errorf("summary line %q", l)
		}
	}
	if err := sink.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := s.Send(context.Background(), m); err == nil {
		t.Error("sent to a closed sink")
	}
}
