package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/simulator"
)

// TestEveryKindOfSensorOnEveryPage: printers (level, percent), washing
// machines (level, millilitres), coffee machines (usage of pods, and a
// part's life) and vacuums (parts' life) each show on every page type, in
// their own units; a usage slot's household inventory and a part's
// replacement change from the pages.
func TestEveryKindOfSensorOnEveryPage(t *testing.T) {
	w := newWorldOf(t, false, simulator.Kinds)
	c := w.signUp("Nia")
	w.link(c)
	as := w.cloud.Accounts()
	a := as[len(as)-1]
	for _, d := range a.Devices {
		// Devices without a level sensor have nothing to report here.
		w.cloud.Report(context.Background(), a, d, replenish.NewUUID(), time.Now())
	}
	for _, k := range w.vendor.Kinds {
		for _, pt := range pageTypes {
			u, _ := url.Parse(w.page(pt, ""))
			q := u.Query()
			if q.Has("modelId") {
				q.Set("modelId", k.ModelID)
			}
			status, body := c.get(u.Path + "?" + q.Encode())
			if status != http.StatusOK || !strings.HasPrefix(body, "<!doctype html>") {
				t.Errorf("%s of %s: %d", pt, k.Name, status)
				continue
			}
			if pt != "dart_landing" && !strings.Contains(body, k.Name+"-") {
				t.Errorf("%s of %s does not show the customer's %s", pt, k.Name, k.Name)
			}
		}
	}
	_, body := c.get(strings.Replace(w.page("settings", ""), "modelId="+w.vendor.ModelID, "modelId=sim-washer", 1))
	if !strings.Contains(body, " milliliter</td>") {
		i := strings.Index(body, "<tbody>")
		t.Errorf("the washing machine's levels are not in millilitres: %s", body[i:min(len(body), i+800)])
	}

	var coffee *simulator.Kind
	for _, k := range w.vendor.Kinds {
		if k.Name == "coffee" {
			coffee = k
		}
	}
	var pods, descaler simulator.Slot
	for _, s := range coffee.Slots {
		switch s.Sensor {
		case replenish.SensorUsage:
			pods = s
		case replenish.SensorLevelUsage:
			descaler = s
		}
	}
	page := func(pt string) string {
		return strings.Replace(w.page(pt, ""), "modelId="+w.vendor.ModelID, "modelId="+coffee.ModelID, 1)
	}
	var ep string
	for _, d := range a.Devices {
		if d.Kind.Name == "coffee" {
			ep = d.EndpointID
		}
	}
	status, _, body := c.post(page("inventory_management"), url.Values{"action": {"household"}, "endpointId": {ep},
		"slotId": {pods.SlotID}, "change": {"set"}, "amount": {"24"}, "reason": {"a new box"}})
	if status != http.StatusSeeOther {
		t.Fatalf("setting the pods: %d %s", status, body)
	}
	_, body = c.get(page("dart_device_list"))
	if !strings.Contains(body, "24 units left") {
		t.Errorf("the device list does not show 24 pods left (a usage slot's amount is its household inventory)")
	}
	status, _, body = c.post(page("installed_inventory"), url.Values{"action": {"installed"}, "endpointId": {ep},
		"slotId": {descaler.SlotID}, "when": {"today"}})
	if status != http.StatusSeeOther {
		t.Fatalf("a new part: %d %s", status, body)
	}
	_, body = c.get(page("inventory_history"))
	if !strings.Contains(body, "New part") || !strings.Contains(body, `<path class="refill"`) {
		t.Errorf("the history does not show the new part, listed and marked on the chart")
	}
}
