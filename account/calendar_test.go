package account_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
)

var calendarURLRe = regexp.MustCompile(`<code id="calendar-url">([^<]+)</code>`)

// settingsCalendarURL reads the calendar's address off the settings page.
func settingsCalendarURL(t *testing.T, c *customer) string {
	t.Helper()
	status, body := c.get("/account/notifications")
	m := calendarURLRe.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("settings page: %d, no calendar address", status)
	}
	return m[1]
}

// getCalendar fetches a feed without signing in and returns its status
// and, when found, its events as the iCalendar decoder reads them.
func getCalendar(t *testing.T, url string) (int, []ical.Event) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(raw))).Decode()
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", url, err, raw)
	}
	return resp.StatusCode, cal.Events()
}

// TestCalendarOnSettingsPage: the settings page shows the calendar's
// whole address, which serves the feed; its button gives a new address
// and the old one stops working.
func TestCalendarOnSettingsPage(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Ada")
	w.link(c)
	w.report(80, 70, 60)
	url := settingsCalendarURL(t, c)
	if !strings.HasPrefix(url, w.URL+"/calendar/cal_") || !strings.HasSuffix(url, ".ics") {
		t.Fatalf("address %q, want %s/calendar/cal_….ics", url, w.URL)
	}
	if status, _ := getCalendar(t, url); status != http.StatusOK {
		t.Fatalf("the shown address: %d, want 200", status)
	}

	status, loc, _ := c.post("/account/notifications/calendar", nil)
	if status != http.StatusSeeOther || loc != "/account/notifications?done=calendar" {
		t.Fatalf("new address: %d to %s", status, loc)
	}
	_, body := c.get(loc)
	if !strings.Contains(body, "Your calendar has a new address") {
		t.Error("no notice of the new address")
	}
	fresh := settingsCalendarURL(t, c)
	if fresh == url {
		t.Fatalf("the address is still %s", url)
	}
	if status, _ := getCalendar(t, url); status != http.StatusNotFound {
		t.Errorf("the old address: %d, want 404", status)
	}
	if status, _ := getCalendar(t, fresh); status != http.StatusOK {
		t.Errorf("the new address: %d, want 200", status)
	}

	// Another customer's page shows another address.
	other := w.signUp("Bo")
	if o := settingsCalendarURL(t, other); o == fresh {
		t.Errorf("two customers share the address %s", o)
	}
}
