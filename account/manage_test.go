package account_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var pageTypes = []string{"dart_landing", "dart_device_list", "settings", "sensor_tracking_selection", "product_selection",
	"inventory_management", "inventory_history", "installed_inventory"}

// TestEveryPageAtEveryURLForm: each page type answers at Dash's web form
// and its short form, shows the customer's printer, checks its
// parameters (400 naming the missing one) and says so for an unknown
// vendor or model (404); the deep link's page is served with its script.
func TestEveryPageAtEveryURLForm(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Eve")
	w.link(c)
	w.report(55, 40, 30, 20)
	eps := c.endpoints()
	if len(eps) != 1 {
		t.Fatalf("the device list shows %d printers, want 1", len(eps))
	}
	for _, pt := range pageTypes {
		long := w.page(pt, "")
		short := strings.Replace(long, "/drs/partner/page/", "/", 1)
		for _, path := range []string{long, short} {
			status, body := c.get(path)
			if status != http.StatusOK {
				t.Errorf("%s: %d, want 200: %s", path, status, body)
				continue
			}
			if !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, "Simulated") {
				t.Errorf("%s: not a page about the vendor's printer", path)
			}
			if pt != "dart_landing" && !strings.Contains(body, eps[0]) {
				t.Errorf("%s does not show the customer's printer %s", path, eps[0])
			}
		}
		for _, param := range []string{"vendorCode", "modelId", "settings", "returnUrl"} {
			u, _ := url.Parse(w.page(pt, ""))
			q := u.Query()
			if !q.Has(param) {
				continue
			}
			q.Del(param)
			status, body := c.get(u.Path + "?" + q.Encode())
			if status != http.StatusBadRequest || !strings.Contains(body, param) {
				t.Errorf("%s without %s: %d, want 400 naming it", pt, param, status)
			}
		}
		u, _ := url.Parse(w.page(pt, ""))
		q := u.Query()
		q.Set("vendorCode", "no-such-vendor")
		if status, body := c.get(u.Path + "?" + q.Encode()); status != http.StatusNotFound || !strings.Contains(body, "no-such-vendor") {
			t.Errorf("%s of an unknown vendor: %d, want 404 saying so", pt, status)
		}
		if q.Has("modelId") {
			q.Set("vendorCode", w.vendor.VendorCode)
			q.Set("modelId", "no-such-model")
			if status, body := c.get(u.Path + "?" + q.Encode()); status != http.StatusNotFound || !strings.Contains(body, "no-such-model") {
				t.Errorf("%s of an unknown model: %d, want 404 saying so", pt, status)
			}
		}
	}
	if status, _ := c.get("/drs/partner/page/no_such_page?vendorCode=x"); status != http.StatusNotFound {
		t.Errorf("an unknown page type: %d, want 404", status)
	}
	status, body := c.get("/spa/index.html")
	if status != http.StatusOK || !strings.Contains(body, `<script src="/account/static/app.js">`) ||
		!strings.Contains(body, `"inventory_history"`) {
		t.Errorf("the deep link's page: %d %s", status, body)
	}
	if status, body := c.get("/account/static/app.js"); status != http.StatusOK || !strings.Contains(body, "location.replace") {
		t.Errorf("the deep link's script: %d", status)
	}
}

var (
	fieldErrRe = regexp.MustCompile(`class="field-error" id="([^"]+)-error"`)
	meterRe    = regexp.MustCompile(`<meter [^>]*value="([0-9.]+)"`)
)

// TestPagesChangeThings: each page's form changes what it says, bad
// input is refused with a message by its field and what was typed kept,
// and the pages show the result.
func TestPagesChangeThings(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Fay")
	w.link(c)
	w.report(55, 40, 30, 20)
	ep := c.endpoints()[0]

	// The device list: a level bar per ink.
	_, body := c.get(w.page("dart_device_list", ""))
	if got := meterRe.FindAllStringSubmatch(body, -1); len(got) != 4 || got[0][1] != "55" || got[3][1] != "20" {
		t.Errorf("level bars %v, want 55, 40, 30, 20", got)
	}

	// Settings: a name, smart reorder needs a product first.
	page := w.page("settings", "")
	status, _, body := c.post(page, url.Values{"action": {"settings"}, "endpointId": {ep}, "friendlyName": {"Office printer"}})
	if status != http.StatusSeeOther {
		t.Fatalf("rename: %d %s", status, body)
	}
	if _, body = c.get(page); !strings.Contains(body, `value="Office printer"`) {
		t.Error("the new name is not shown")
	}
	status, _, body = c.post(page, url.Values{"action": {"settings"}, "endpointId": {ep}, "friendlyName": {strings.Repeat("x", 200)}})
	if status != http.StatusBadRequest || !strings.Contains(body, "settings-"+ep+"-name-error") || !strings.Contains(body, strings.Repeat("x", 200)) {
		t.Errorf("a name too long: %d, want 400 with the message by the field and the name kept", status)
	}

	// Supply tracking: the price is shown before AUTO is saved.
	page = w.page("sensor_tracking_selection", "")
	_, body = c.get(page)
	if !strings.Contains(body, "Black ink cartridge (simulated)") || !regexp.MustCompile(`class="price">[0-9]+\.[0-9]{2} USD<`).MatchString(body) {
		t.Errorf("the supply page shows no product with its price in USD")
	}
	slot := regexp.MustCompile(`name="slotId" value="([^"]+)"`).FindStringSubmatch(body)[1]
	product := regexp.MustCompile(`name="productId" value="([^"]+)"`).FindStringSubmatch(body)[1]
	status, _, body = c.post(page, url.Values{"action": {"subscription"}, "endpointId": {ep}, "slotId": {slot}, "mode": {"SOMETIMES"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "subscription-"+ep+"-"+slot+"-mode-error") {
		t.Errorf("a bad mode: %d, want 400 with the message by the field", status)
	}
	status, _, _ = c.post(page, url.Values{"action": {"subscription"}, "endpointId": {ep}, "slotId": {slot}, "mode": {"AUTO"}, "productId": {product}})
	if status != http.StatusSeeOther {
		t.Fatalf("AUTO with a product: %d", status)
	}
	_, body = c.get(w.page("dart_device_list", ""))
	if !strings.Contains(body, "Smart reorder") {
		t.Error("the device list does not show the slot's smart reorder")
	}

	// Inventory: set, add, remove with a reason; bad input kept.
	page = w.page("inventory_management", "")
	post := func(change, amount, reason string) (int, string) {
		status, _, body := c.post(page, url.Values{"action": {"household"}, "endpointId": {ep}, "slotId": {slot},
			"change": {change}, "amount": {amount}, "reason": {reason}})
		return status, body
	}
	status, body = post("set", "lots", "")
	if status != http.StatusBadRequest {
		t.Errorf("amount lots: %d, want 400", status)
	}
	ids := fieldErrRe.FindAllStringSubmatch(body, -1)
	if len(ids) < 2 || !strings.Contains(body, `value="lots"`) {
		t.Errorf("refused inventory: field errors %v, want amount and reason with lots kept", ids)
	}
	for _, step := range []struct{ change, amount, want string }{{"set", "3", "3"}, {"add", "2", "5"}, {"remove", "1", "4"}} {
		if status, body := post(step.change, step.amount, "counted them"); status != http.StatusSeeOther {
			t.Fatalf("%s %s: %d %s", step.change, step.amount, status, body)
		}
		_, body = c.get(page)
		if !strings.Contains(body, "<strong>"+step.want+"</strong> parts at home") && !strings.Contains(body, "<strong>"+step.want+"</strong> count at home") {
			t.Errorf("after %s %s the page does not say %s at home", step.change, step.amount, step.want)
		}
	}
	if status, body := post("remove", "1.5", "dropped one"); status != http.StatusBadRequest || !strings.Contains(body, "whole number") {
		t.Errorf("removing 1.5 cartridges: %d, want 400 asking for a whole number", status)
	}

	// Installed part: "I replaced it today".
	page = w.page("installed_inventory", "")
	status, _, body = c.post(page, url.Values{"action": {"installed"}, "endpointId": {ep}, "slotId": {slot}, "when": {"today"}})
	if status != http.StatusSeeOther {
		t.Fatalf("replaced today: %d %s", status, body)
	}
	_, body = c.get(page)
	if !regexp.MustCompile(`class="installed-at">[0-9]+ [A-Z][a-z]+ 20[0-9]{2}<`).MatchString(body) {
		t.Error("the installed part's date is not shown")
	}
	status, _, body = c.post(page, url.Values{"action": {"installed"}, "endpointId": {ep}, "slotId": {slot}, "when": {"date"}, "date": {"2999-01-01"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "in the future") || !strings.Contains(body, `value="2999-01-01"`) {
		t.Errorf("a date in the future: %d, want 400 saying so with the date kept", status)
	}

	// History: a chart with the readings and the events.
	w.report(50, 35, 25, 15)
	status, body = c.get(w.page("inventory_history", "") + "&days=7")
	if status != http.StatusOK || strings.Count(body, `<svg class="chart"`) != 4 || !strings.Contains(body, `<polyline class="amount"`) {
		t.Errorf("history: %d, want 4 charts with lines: %s", status, body)
	}
	if !strings.Contains(body, "Household inventory") || !strings.Contains(body, "counted them") {
		t.Error("the history does not list the inventory changes")
	}
	if status, body := c.get(w.page("inventory_history", "") + "&days=2"); status != http.StatusBadRequest || !strings.Contains(body, "days") {
		t.Errorf("days=2: %d, want 400 naming days", status)
	}
}

// TestPagesUseTheVendorsNamesAndLinks: the pages name the model and its
// supplies as the vendor listed them in the customer's marketplace; the
// home page shows the linked vendor's devices; unlinking says so.
func TestPagesUseTheVendorsNamesAndLinks(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Lou")
	w.link(c)
	w.report(50, 50, 50, 50)
	var slots struct {
		Slots []struct{ SlotID string } `json:"slots"`
	}
	if err := w.api.Do(t.Context(), "GET", "/api/v1/models/"+w.vendor.ModelID, w.vendor.APIKey, nil, &slots); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for i, s := range slots.Slots {
		names[s.SlotID] = "Tinte " + string(rune('A'+i))
	}
	if err := w.api.Do(t.Context(), "PUT", "/api/v1/models/"+w.vendor.ModelID+"/marketplaces/US/localization", w.vendor.APIKey,
		map[string]any{"deviceName": "Bürodrucker 3000", "slotNames": names}, nil); err != nil {
		t.Fatal(err)
	}
	_, body := c.get(w.page("inventory_management", ""))
	if !strings.Contains(body, "Bürodrucker 3000") || !strings.Contains(body, "<h3>Tinte A</h3>") {
		t.Errorf("the page does not use the vendor's listing names")
	}
	if !strings.Contains(body, `<img src="/images/`+w.vendor.VendorCode+`/`+w.vendor.ModelID+`" alt="">`) {
		t.Errorf("the page does not show the model's image")
	}
	if status, _ := c.get("/images/" + w.vendor.VendorCode + "/" + w.vendor.ModelID); status != http.StatusOK {
		t.Errorf("the model's image: %d", status)
	}
	_, body = c.get("/account/")
	if !strings.Contains(body, "Bürodrucker 3000") || !strings.Contains(body, "<meter") {
		t.Errorf("the home page does not show the linked printer")
	}
	status, loc, _ := c.post("/account/vendors/"+w.vendor.VendorCode+"/unlink", nil)
	if status != http.StatusSeeOther || loc != "/account/vendors?done=unlinked" {
		t.Fatalf("unlink: %d to %s", status, loc)
	}
	_, body = c.get("/account/vendors?done=unlinked")
	if !strings.Contains(body, "Unlinked.") || !strings.Contains(body, `class="badge UNLINKED"`) {
		t.Errorf("the vendors page does not show the vendor unlinked")
	}
}
