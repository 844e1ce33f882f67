package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"replenish"
	"replenish/customers"
)

var (
	now    = time.Date(2031, 3, 10, 22, 30, 0, 0, time.UTC)
	runOut = time.Date(2031, 3, 20, 23, 59, 0, 0, time.UTC)
	order  = time.Date(2031, 3, 15, 0, 1, 0, 0, time.UTC)
)

func endpoints(runOut, next *time.Time) []customers.Endpoint {
	return []customers.Endpoint{{EndpointID: "ep1", VendorCode: "acme", FriendlyName: "Office printer",
		Slots: []customers.Slot{{SlotID: "ink", Name: "Black ink", RunOutDate: runOut, NextOrderDate: next}, {SlotID: "paper"}}}}
}

func TestEvents(t *testing.T) {
	open := []replenish.Order{
		{OrderID: "o1", VendorCode: "acme", EndpointID: "ep1", SlotID: "ink", ProductID: "INK-1", Quantity: 1,
			Status: replenish.OrderPending, CancelBy: now.Add(time.Hour)},
		// Late: its estimate has passed, so it is expected today.
		{OrderID: "o2", VendorCode: "acme", EndpointID: "gone", SlotID: "x", ProductID: "PAPER-A4", Quantity: 2,
			Status: replenish.OrderShipped, CancelBy: now.AddDate(0, 0, -9)},
	}
	es := Events("c1", endpoints(&runOut, &order), open, 2.5, now)
	type want struct {
		kind, date, summary string
	}
	wants := []want{
		{KindDelivery, "2031-03-10", "PAPER-A4 arrives"},
		{KindDelivery, "2031-03-13", "Black ink (Office printer) arrives"},
		{KindNextOrder, "2031-03-15", "Replenish orders Black ink (Office printer)"},
		{KindRunOut, "2031-03-20", "Black ink (Office printer) runs out"},
	}
	if len(es) != len(wants) {
		t.Fatalf("events %+v, want %d", es, len(wants))
	}
	uids := map[string]bool{}
	for i, w := range wants {
		e := es[i]
		if e.Kind != w.kind || e.Date.Format(time.DateOnly) != w.date || e.Summary != w.summary {
			t.Errorf("event %d = %s %s %q, want %s %s %q", i, e.Kind, e.Date.Format(time.DateOnly), e.Summary, w.kind, w.date, w.summary)
		}
		if uids[e.UID] || !strings.HasSuffix(e.UID, "@replenish") {
			t.Errorf("UID %q repeated or malformed", e.UID)
		}
		uids[e.UID] = true
	}

	// Other dates, same UIDs; another customer, other UIDs.
	later, laterOrder := runOut.AddDate(0, 0, 4), order.AddDate(0, 0, 3)
	moved := Events("c1", endpoints(&later, &laterOrder), open, 2.5, now.Add(time.Hour))
	for _, e := range moved {
		if !uids[e.UID] {
			t.Errorf("UID %s of %s is new after the dates moved", e.UID, e.Kind)
		}
	}
	for _, e := range Events("c2", endpoints(&runOut, &order), nil, 2.5, now) {
		if uids[e.UID] {
			t.Errorf("customer c2 has c1's UID %s", e.UID)
		}
	}
	// No forecast, no orders: nothing.
	if es := Events("c1", endpoints(nil, nil), nil, 2.5, now); len(es) != 0 {
		t.Errorf("without dates: %+v, want none", es)
	}
}

// TestEncode: the encoded feed parses back with every event's fields,
// text escaped; the empty feed parses too.
func TestEncode(t *testing.T) {
	events := []Event{{UID: "run-out-1@replenish", Kind: KindRunOut, Date: time.Date(2031, 3, 20, 0, 0, 0, 0, time.UTC),
		Summary: "Ink; black, runs out", Description: strings.Repeat("long line, ", 20) + strings.Repeat("é×", 40)}}
	raw, err := encode(events, now)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(raw))).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	got := cal.Events()
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	summary, _ := got[0].Props.Text(ical.PropSummary)
	desc, _ := got[0].Props.Text(ical.PropDescription)
	start, _ := got[0].DateTimeStart(time.UTC)
	if summary != events[0].Summary || desc != events[0].Description || !start.Equal(events[0].Date) {
		t.Errorf("parsed back %q, %q, %v; want %q, %q, %v", summary, desc, start, events[0].Summary, events[0].Description, events[0].Date)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets, more than RFC 5545's 75: %q", len(line), line)
		}
	}

	raw, err = encode(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	cal, err = ical.NewDecoder(strings.NewReader(string(raw))).Decode()
	if err != nil || len(cal.Events()) != 0 {
		t.Fatalf("the empty feed: %v, %d events\n%s", err, len(cal.Events()), raw)
	}
	if v, _ := cal.Props.Text(ical.PropVersion); v != "2.0" {
		t.Errorf("the empty feed's VERSION %q", v)
	}
}
