package web_test

import (
	"net/http"
	"strings"
	"testing"
)

type listingJSON struct {
	Status     string            `json:"status"`
	DeviceName string            `json:"deviceName"`
	SlotNames  map[string]string `json:"slotNames"`
	// RejectReason is the operator's reason when the marketplace was rejected.
	RejectReason string `json:"rejectReason"`
}

func listingOf(t *testing.T, e *env, key, modelID, mp string) listingJSON {
	t.Helper()
	var m struct {
		Listings map[string]listingJSON `json:"listings"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID, key, nil, &m)
	l, ok := m.Listings[mp]
	if !ok {
		t.Fatalf("model %s has no listing in %s: %+v", modelID, mp, m.Listings)
	}
	return l
}

func TestConsoleLocalization(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/DE", key, nil, nil)
	path := "/api/v1/models/" + modelID + "/marketplaces/DE/localization"

	if l := listingOf(t, e, key, modelID, "DE"); l.Status != "DRAFT" || l.DeviceName != "" || len(l.SlotNames) != 0 {
		t.Fatalf("a new marketplace's listing = %+v", l)
	}
	name100 := strings.Repeat("ü", 100)
	e.must(http.StatusOK, "PUT", path, key, map[string]any{"deviceName": name100,
		"slotNames": map[string]string{"SLOT01": "Schwarze Tinte", "cyan": "Cyan"}}, nil)
	l := listingOf(t, e, key, modelID, "DE")
	if l.DeviceName != name100 || l.SlotNames["SLOT01"] != "Schwarze Tinte" || l.SlotNames["cyan"] != "Cyan" {
		t.Fatalf("DE listing = %+v", l)
	}
	// A PUT replaces the names: a slot left out has no name again.
	e.must(http.StatusOK, "PUT", path, key, map[string]any{"deviceName": "Drucker", "slotNames": map[string]string{"SLOT01": "Schwarz"}}, nil)
	l = listingOf(t, e, key, modelID, "DE")
	if l.DeviceName != "Drucker" || len(l.SlotNames) != 1 || l.SlotNames["SLOT01"] != "Schwarz" {
		t.Fatalf("DE listing after replacing = %+v", l)
	}

	before := snapshot(t, e, key, "/api/v1/models/"+modelID)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"deviceName": ""}, "deviceName"},
		{map[string]any{"slotNames": map[string]string{"SLOT01": "x"}}, "deviceName"},
		{map[string]any{"deviceName": strings.Repeat("ü", 101)}, "deviceName"},
		{map[string]any{"deviceName": "D", "slotNames": map[string]string{"magenta": "Magenta"}}, "slotNames.magenta"},
		{map[string]any{"deviceName": "D", "slotNames": map[string]string{"SLOT01": " "}}, "slotNames.SLOT01"},
		{map[string]any{"deviceName": "D", "title": "x"}, "title"},
	} {
		e.refused(http.StatusBadRequest, "invalid", c.field, "PUT", path, key, c.body)
	}
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/"+modelID+"/marketplaces/JP/localization", key,
		map[string]any{"deviceName": "D"})
	unchanged(t, e, key, "/api/v1/models/"+modelID, before, "refused names")

	// Removing a slot removes its names; removing a marketplace removes its listing.
	e.must(http.StatusOK, "PUT", path, key, map[string]any{"deviceName": "Drucker", "slotNames": map[string]string{"SLOT01": "Schwarz", "cyan": "Cyan"}}, nil)
	e.must(http.StatusOK, "DELETE", "/api/v1/models/"+modelID+"/slots/cyan", key, nil, nil)
	if l := listingOf(t, e, key, modelID, "DE"); len(l.SlotNames) != 1 {
		t.Fatalf("names after removing cyan = %+v", l.SlotNames)
	}
	var m modelJSON
	e.must(http.StatusOK, "DELETE", "/api/v1/models/"+modelID+"/marketplaces/DE", key, nil, &m)
	if len(m.Marketplaces) != 0 {
		t.Fatalf("marketplaces after removing DE = %v", m.Marketplaces)
	}
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/models/"+modelID+"/marketplaces/DE", key, nil)
	// Added again, it starts afresh.
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/DE", key, nil, nil)
	if l := listingOf(t, e, key, modelID, "DE"); l.DeviceName != "" {
		t.Fatalf("DE added again keeps its old name %q", l.DeviceName)
	}
}
