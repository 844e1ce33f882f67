package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
)

// TestCustomerRename: the customer's name for a device wins over the
// vendor's, survives rediscovery, and an empty one gives the vendor's back.
func TestCustomerRename(t *testing.T) {
	w := gwLinked(t)
	path := "/api/v1/endpoints/" + w.ep
	var ep customers.Endpoint
	w.e.must(http.StatusOK, "PATCH", path, w.c.APIKey, map[string]string{"friendlyName": "  Study printer "}, &ep)
	if ep.FriendlyName != "Study printer" {
		t.Fatalf("renamed: %q", ep.FriendlyName)
	}
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "friendlyName", "PATCH", path, w.c.APIKey, map[string]string{"friendlyName": strings.Repeat("x", 129)})
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "friendlyName", "PATCH", path, w.c.APIKey, map[string]string{})
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "name", "PATCH", path, w.c.APIKey, map[string]string{"name": "x"})
	w.e.refused(http.StatusNotFound, replenish.ENotFound, "", "PATCH", "/api/v1/endpoints/nothing", w.c.APIKey, map[string]string{"friendlyName": "x"})
	w.e.refused(http.StatusForbidden, replenish.EForbidden, "", "PATCH", path, w.v.APIKey, map[string]string{"friendlyName": "x"})
	if got := gwEndpoints(t, w.e, w.c)[0].FriendlyName; got != "Study printer" {
		t.Fatalf("refused renames changed the name to %q", got)
	}
	w.e.must(http.StatusOK, "PATCH", path, w.c.APIKey, map[string]string{"friendlyName": ""}, &ep)
	if ep.FriendlyName != "GW printer" {
		t.Fatalf("an empty name gave %q, want the vendor's", ep.FriendlyName)
	}
}

// TestCustomerInstalled: "I replaced it today" starts a new part on a
// LEVEL_USAGE slot, drawing a spare, and records the date elsewhere.
func TestCustomerInstalled(t *testing.T) {
	s := gwWithSensors(t)
	e := s.e
	filter := "/api/v1/endpoints/" + s.ep + "/slots/SLOT06/"
	e.must(http.StatusOK, "PUT", filter+"household-inventory", s.c.APIKey, map[string]any{"quantity": 2, "reason": "bought filters"}, nil)
	gwAccepted(t, e, s.tok.AccessToken, s.filter(70))
	s.wantAmount(t, "SLOT06", 30)
	e.clock.Advance(time.Hour)
	at := e.clock.Now().Add(-time.Minute).Truncate(time.Second)
	var ep customers.Endpoint
	e.must(http.StatusOK, "PUT", filter+"installed", s.c.APIKey, map[string]any{"installedAt": at}, &ep)
	sl := s.wantAmount(t, "SLOT06", 100)
	if sl.InstalledAt == nil || !sl.InstalledAt.Equal(at) || sl.HouseholdInventory.Value != 1 || sl.HouseholdInventory.Unit != "parts" {
		t.Fatalf("after installing: %+v, want 100 %% from %v and one spare left", sl, at)
	}
	for _, c := range []struct {
		name string
		body any
	}{
		{"no date", map[string]any{}},
		{"in the future", map[string]any{"installedAt": e.clock.Now().Add(time.Hour)}},
		{"before the last one", map[string]any{"installedAt": at.Add(-time.Hour)}},
		{"not a date", map[string]any{"installedAt": "yesterday"}},
		{"year 1", map[string]any{"installedAt": "0001-01-01T00:00:00Z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.refused(http.StatusBadRequest, replenish.EInvalid, "installedAt", "PUT", filter+"installed", s.c.APIKey, c.body)
		})
	}
	// Any other slot records the date only.
	e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+s.ep+"/slots/SLOT01/installed", s.c.APIKey, map[string]any{"installedAt": at}, &ep)
	if sl := gwSlot(t, e, s.c, s.ep, "SLOT01"); sl.InstalledAt == nil || !sl.InstalledAt.Equal(at) || sl.Level != nil {
		t.Fatalf("ink after installing: %+v", sl)
	}
}

// TestCustomerHistory: a slot's history, newest first, with from, to,
// limit and a cursor that walks it whole.
func TestCustomerHistory(t *testing.T) {
	w := gwLinked(t)
	start := w.e.clock.Now()
	for _, v := range []string{"80", "60", "40", "20"} {
		w.e.clock.Advance(time.Minute)
		gwAccepted(t, w.e, w.tok.AccessToken, w.black(v))
	}
	all := w.history(t, "")
	if len(all) != 4 || all[0].Type != replenish.HistoryReading || *all[0].Amount != 20 || all[0].Unit != "percent" {
		t.Fatalf("history %+v, want 4 readings, newest (20 %%) first", all)
	}
	var walked []float64
	query := "?limit=3"
	for range 3 {
		var page struct {
			Items      []replenish.HistoryEntry
			NextCursor string
		}
		w.e.must(http.StatusOK, "GET", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/history"+query, w.c.APIKey, nil, &page)
		for _, h := range page.Items {
			walked = append(walked, *h.Amount)
		}
		if page.NextCursor == "" {
			break
		}
		query = "?limit=3&cursor=" + page.NextCursor
	}
	if len(walked) != 4 || walked[0] != 20 || walked[3] != 80 {
		t.Fatalf("walked %v, want 20, 40, 60, 80", walked)
	}
	from := start.Add(2 * time.Minute).Format(time.RFC3339Nano)
	to := start.Add(4 * time.Minute).Format(time.RFC3339Nano)
	if got := w.history(t, "?from="+from+"&to="+to); len(got) != 2 || *got[0].Amount != 40 || *got[1].Amount != 60 {
		t.Fatalf("from %s to %s: %+v", from, to, got)
	}
	base := "/api/v1/endpoints/" + w.ep + "/slots/SLOT01/history"
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "from", "GET", base+"?from=yesterday", w.c.APIKey, nil)
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "to", "GET", base+"?from="+to+"&to="+from, w.c.APIKey, nil)
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "limit", "GET", base+"?limit=501", w.c.APIKey, nil)
	w.e.refused(http.StatusNotFound, replenish.ENotFound, "", "GET", "/api/v1/endpoints/"+w.ep+"/slots/NOPE/history", w.c.APIKey, nil)
}
