package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"replenish"
	"replenish/orders"
)

// calEvent is an event of the feed as a calendar application reads it.
type calEvent struct {
	UID, Summary, Category string
	Start                  time.Time
}

// fetchCalendar gets the feed at url without a key and parses it with
// the iCalendar library's decoder, checking what every event must have:
// a UID, a DTSTAMP, and a DTSTART and DTEND that are dates a day apart.
func fetchCalendar(t *testing.T, url string) map[string]calEvent {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", url, resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Errorf("Content-Type %q, want text/calendar", ct)
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(raw))).Decode()
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, raw)
	}
	if v, _ := cal.Props.Text(ical.PropVersion); v != "2.0" {
		t.Errorf("VERSION %q, want 2.0", v)
	}
	if p, _ := cal.Props.Text(ical.PropProductID); p == "" {
		t.Error("no PRODID")
	}
	out := map[string]calEvent{}
	for _, ev := range cal.Events() {
		uid, _ := ev.Props.Text(ical.PropUID)
		if uid == "" {
			t.Fatalf("an event without a UID:\n%s", raw)
		}
		if _, dup := out[uid]; dup {
			t.Errorf("UID %s twice", uid)
		}
		if ev.Props.Get(ical.PropDateTimeStamp) == nil {
			t.Errorf("%s: no DTSTAMP", uid)
		}
		start, end := ev.Props.Get(ical.PropDateTimeStart), ev.Props.Get(ical.PropDateTimeEnd)
		if start == nil || end == nil || start.ValueType() != ical.ValueDate || end.ValueType() != ical.ValueDate {
			t.Fatalf("%s: DTSTART %+v, DTEND %+v: want all-day dates", uid, start, end)
		}
		from, err := ev.DateTimeStart(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		to, err := ev.DateTimeEnd(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if !to.Equal(from.AddDate(0, 0, 1)) {
			t.Errorf("%s: from %v to %v, want one day", uid, from, to)
		}
		summary, _ := ev.Props.Text(ical.PropSummary)
		category, _ := ev.Props.Text(ical.PropCategories)
		out[uid] = calEvent{UID: uid, Summary: summary, Category: category, Start: from}
	}
	return out
}

// byCategory returns the one event of a category (RUN-OUT, NEXT-ORDER,
// DELIVERY), failing unless there is exactly one.
func byCategory(t *testing.T, events map[string]calEvent, category string) calEvent {
	t.Helper()
	var found []calEvent
	for _, ev := range events {
		if ev.Category == category {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s events, want 1: %+v", len(found), category, events)
	}
	return found[0]
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// calendarURL reads the feed's address from the customer's settings.
func calendarURL(t *testing.T, e *env, key string) string {
	t.Helper()
	var set struct {
		CalendarURL string `json:"calendarUrl"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/notification-settings", key, nil, &set)
	if !strings.HasPrefix(set.CalendarURL, e.URL+"/calendar/") || !strings.HasSuffix(set.CalendarURL, ".ics") {
		t.Fatalf("calendarUrl %q, want %s/calendar/{token}.ics", set.CalendarURL, e.URL)
	}
	return set.CalendarURL
}

// TestCalendarFeed: the feed holds the slot's run-out and next order
// dates and the open order's delivery as all-day events, whose UIDs stay
// while their dates move; a cancelled order leaves it.
func TestCalendarFeed(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Hour })
	e := w.e
	url := calendarURL(t, e, w.c.APIKey)
	if again := calendarURL(t, e, w.c.APIKey); again != url {
		t.Fatalf("calendarUrl changed from %s to %s without rotating", url, again)
	}
	if events := fetchCalendar(t, url); len(events) != 0 {
		t.Fatalf("before any reading: %+v, want no events", events)
	}

	w.forecastPolicy(t, 95)
	level := 100.0
	for range 4 {
		w.day(t, level)
		level -= 5
	}
	sl := gwSlot(t, e, w.c, w.ep, "SLOT01")
	if sl.RunOutDate == nil || sl.NextOrderDate == nil {
		t.Fatalf("slot without dates: %+v", sl)
	}
	first := fetchCalendar(t, url)
	if len(first) != 2 {
		t.Fatalf("events %+v, want the run-out and the next order", first)
	}
	runOut, next := byCategory(t, first, "RUN-OUT"), byCategory(t, first, "NEXT-ORDER")
	if !runOut.Start.Equal(utcDay(*sl.RunOutDate)) || !next.Start.Equal(utcDay(*sl.NextOrderDate)) {
		t.Errorf("run-out on %v, next order on %v; want the slot's %v and %v", runOut.Start, next.Start, sl.RunOutDate, sl.NextOrderDate)
	}
	if !strings.Contains(runOut.Summary, "runs out") {
		t.Errorf("run-out summary %q", runOut.Summary)
	}

	// A day of heavier use (10 points, not 5): the dates come nearer,
	// under the same UIDs.
	w.day(t, level-5)
	level -= 15
	if os := w.orders(t); len(os) != 0 {
		t.Fatalf("ordered at %g %%: %+v", level+5, os)
	}
	sl = gwSlot(t, e, w.c, w.ep, "SLOT01")
	second := fetchCalendar(t, url)
	if len(second) != 2 {
		t.Fatalf("after heavy use: %+v, want two events", second)
	}
	moved, ok := second[runOut.UID]
	if !ok || moved.Category != "RUN-OUT" {
		t.Fatalf("the run-out event's UID %s is gone: %+v", runOut.UID, second)
	}
	if !moved.Start.Before(runOut.Start) || !moved.Start.Equal(utcDay(*sl.RunOutDate)) {
		t.Errorf("run-out moved from %v to %v, want earlier, on the slot's %v", runOut.Start, moved.Start, sl.RunOutDate)
	}
	if _, ok := second[next.UID]; !ok {
		t.Errorf("the next order event's UID %s is gone: %+v", next.UID, second)
	}

	// Down to an order: its delivery is expected at its release plus the
	// US lead time (2 days).
	var placed replenish.Order
	for level > 0 && placed.OrderID == "" {
		w.day(t, level)
		level -= 5
		if os := w.orders(t); len(os) > 0 {
			placed = os[0]
		}
	}
	if placed.OrderID == "" {
		t.Fatal("no order before the device ran empty")
	}
	third := fetchCalendar(t, url)
	delivery := byCategory(t, third, "DELIVERY")
	if want := utcDay(placed.CancelBy.Add(48 * time.Hour)); !delivery.Start.Equal(want) {
		t.Errorf("delivery on %v, want %v (released %v, plus 2 days)", delivery.Start, want, placed.CancelBy)
	}
	if _, ok := third[runOut.UID]; !ok {
		t.Errorf("the run-out event's UID %s is gone once ordered: %+v", runOut.UID, third)
	}
	if again := fetchCalendar(t, url); again[delivery.UID] != delivery {
		t.Errorf("the delivery event changed between two fetches: %+v, then %+v", delivery, again[delivery.UID])
	}

	// Cancelled: no delivery to expect.
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+placed.OrderID+"/cancel", w.c.APIKey, nil, nil)
	for _, ev := range fetchCalendar(t, url) {
		if ev.Category == "DELIVERY" {
			t.Errorf("a cancelled order still has a delivery event: %+v", ev)
		}
	}
}

// TestCalendarToken: the address is a secret that rotating replaces; an
// unknown or old token is not found, and one customer's address never
// shows another's calendar.
func TestCalendarToken(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	url := calendarURL(t, e, w.c.APIKey)
	fetchCalendar(t, url)

	for _, path := range []string{"/calendar/cal_doesnotexist.ics", "/calendar/nothing.ics", "/calendar/.ics",
		strings.TrimSuffix(strings.TrimPrefix(url, e.URL), ".ics"), strings.TrimPrefix(url, e.URL) + ".txt"} {
		if status, raw := e.do("GET", path, "", nil); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404: %s", path, status, raw)
		}
	}

	var rotated struct {
		CalendarURL string `json:"calendarUrl"`
	}
	e.must(http.StatusOK, "POST", "/api/v1/calendar-token", w.c.APIKey, nil, &rotated)
	if rotated.CalendarURL == url || !strings.HasPrefix(rotated.CalendarURL, e.URL+"/calendar/cal_") {
		t.Fatalf("rotated to %q from %q, want a new address", rotated.CalendarURL, url)
	}
	if status, _ := e.do("GET", strings.TrimPrefix(url, e.URL), "", nil); status != http.StatusNotFound {
		t.Errorf("the old address after rotating: %d, want 404", status)
	}
	fetchCalendar(t, rotated.CalendarURL)
	if now := calendarURL(t, e, w.c.APIKey); now != rotated.CalendarURL {
		t.Errorf("settings show %s after rotating to %s", now, rotated.CalendarURL)
	}

	// Another customer has an address of their own.
	other := gwCustomer(t, e)
	if otherURL := calendarURL(t, e, other.APIKey); otherURL == rotated.CalendarURL {
		t.Errorf("two customers share the address %s", otherURL)
	}

	// The settings as answered may be sent back changed: calendarUrl is
	// read-only, and ignored.
	e.must(http.StatusOK, "PUT", "/api/v1/notification-settings", w.c.APIKey,
		map[string]any{"email": false, "calendarUrl": "https://elsewhere.example/x.ics"}, nil)
	if now := calendarURL(t, e, w.c.APIKey); now != rotated.CalendarURL {
		t.Errorf("PUT with calendarUrl changed the address to %s", now)
	}
}
