package account

import (
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/pagelink"
)

// managed is what a management page shows.
type managed struct {
	// Type is the page type as asked for; Kind the page it opens.
	Type, Kind string
	Page       customers.Page
	// link builds links to the other pages of the same vendor and model,
	// carrying the allowed exitUri along.
	link pagelink.Link
	// Self is the page's own path and query, without a notice.
	Self string
	// History is the inventory history page's charts.
	History []slotHistory
	Days    int
}

// Link returns the path of page type t for the same vendor and model.
func (m *managed) Link(t string) string {
	l := m.link
	l.PageType = t
	return l.WebPath()
}

// For returns the path of page type t of model modelID of the vendor.
func (m *managed) For(t, modelID string) string {
	l := m.link
	l.PageType, l.ModelID = t, modelID
	return l.WebPath()
}

// Offer returns the offer of product id in the customer's marketplace.
func (m *managed) Offer(id string) customers.Offer { return m.Page.Offers[id] }

// Tabs are the pages of one model, in the order they are offered.
func (m *managed) Tabs() []tab {
	var out []tab
	for _, t := range []struct{ typ, name string }{
		{pagelink.Settings, "Settings"}, {pagelink.SupplyTracking, "Supplies"},
		{pagelink.InventoryManagement, "Inventory"}, {pagelink.InventoryHistory, "History"},
		{pagelink.InstalledInventory, "Installed part"},
	} {
		out = append(out, tab{Name: t.name, Path: m.Link(t.typ), Current: t.typ == m.Kind})
	}
	return out
}

type tab struct {
	Name, Path string
	Current    bool
}

// pageTemplates are the templates of the page types.
var pageTemplates = map[string]string{
	pagelink.Landing: "landing", pagelink.DeviceList: "devices", pagelink.Settings: "settings",
	pagelink.SupplyTracking: "tracking", pagelink.InventoryManagement: "inventory",
	pagelink.InventoryHistory: "history", pagelink.InstalledInventory: "installed",
}

// pageTitles are the page types' titles.
var pageTitles = map[string]string{
	pagelink.Landing: "Smart reorder", pagelink.DeviceList: "Your devices", pagelink.Settings: "Device settings",
	pagelink.SupplyTracking: "Supply tracking", pagelink.InventoryManagement: "Household inventory",
	pagelink.InventoryHistory: "Inventory history", pagelink.InstalledInventory: "Installed part",
}

// manage serves every management page, at every URL form: the page type
// is the path's, the rest is the query. A POST is one of the page's forms;
// it goes back to the vendor's exitUri when it succeeds and one is
// allowed, else to the page.
func (s *Server) manage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	typ := r.PathValue("pageType")
	if typ == "" {
		typ = strings.TrimPrefix(r.URL.Path, "/")
	}
	if !pagelink.IsType(typ) {
		return replenish.Errorf(replenish.ENotFound, "There is no page %q; the link may be mistyped.", typ)
	}
	q := r.URL.Query()
	if err := pagelink.Check(typ, q); err != nil {
		name := field(err)
		return replenish.FieldError(name, "this link needs the "+name+" parameter "+describe(err, name))
	}
	kind := pagelink.Canonical(typ)
	modelID := ""
	if kind != pagelink.DeviceList {
		modelID = q.Get("modelId")
	}
	p, err := s.Customers.Page(r.Context(), u.CustomerID, q.Get("vendorCode"), modelID)
	if err != nil {
		return err
	}
	m := &managed{Type: typ, Kind: kind, Page: p,
		link: pagelink.Link{VendorCode: p.Vendor.Code, ModelID: modelID}}
	v := &view{Title: pageTitles[kind], Customer: &u, Data: m}
	if exit := q.Get("exitUri"); pagelink.ExitAllowed(exit, p.Vendor.AllowedExitURIs) {
		// Checked against the vendor's list, so an app's own scheme
		// (myapp://) is as safe to offer as https.
		v.Exit, v.ExitName = template.URL(exit), p.Vendor.Name
		m.link.ExitURI = exit
	}
	m.Self = m.Link(typ)
	if kind == pagelink.InventoryHistory {
		if err := s.history(r, u, m); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		if err := parseForm(w, r); err != nil {
			return err
		}
		done, err := s.change(r, u, m, v)
		if err != nil {
			return err
		}
		if done {
			if v.Exit != "" {
				http.Redirect(w, r, string(v.Exit), http.StatusSeeOther)
			} else {
				seeOther(w, r, m.Self, "saved")
			}
			return nil
		}
		status = http.StatusBadRequest
		// The page shows what is now true, with the refused form as typed.
		if m.Page, err = s.Customers.Page(r.Context(), u.CustomerID, p.Vendor.Code, modelID); err != nil {
			return err
		}
	}
	s.render(w, r, status, pageTemplates[kind], v)
	return nil
}

// describe says what a parameter must be, from err's message for it.
func describe(err error, name string) string {
	e, _ := err.(*replenish.Error)
	if e == nil {
		return ""
	}
	msg := e.Fields[name]
	if strings.HasPrefix(msg, "required") {
		return "(" + msg + ")."
	}
	return "(it " + msg + ")."
}

// change runs the form posted on a management page. It reports whether
// the change was made; a refused one is recorded on v to show.
func (s *Server) change(r *http.Request, u replenish.User, m *managed, v *view) (bool, error) {
	f := r.PostForm
	action := f.Get("action")
	want := map[string]string{pagelink.Settings: "settings", pagelink.SupplyTracking: "subscription",
		pagelink.InventoryManagement: "household", pagelink.InstalledInventory: "installed"}[m.Kind]
	if action == "" || action != want {
		return false, replenish.FieldError("action", "this page has no such form")
	}
	ctx := r.Context()
	endpointID, slotID := f.Get("endpointId"), f.Get("slotId")
	var dev *customers.Endpoint
	for i := range m.Page.Devices {
		if m.Page.Devices[i].EndpointID == endpointID {
			dev = &m.Page.Devices[i]
		}
	}
	if dev == nil {
		return false, replenish.Errorf(replenish.ENotFound, "You have no such device here.")
	}
	var sl *customers.Slot
	for i := range dev.Slots {
		if dev.Slots[i].SlotID == slotID {
			sl = &dev.Slots[i]
		}
	}
	if action != "settings" && sl == nil {
		return false, replenish.Errorf(replenish.ENotFound, "This device has no such supply.")
	}
	form := action + "-" + endpointID + "-" + slotID
	var err error
	var rename map[string]string
	switch action {
	case "settings":
		form = "settings-" + endpointID
		err = s.saveSettings(r, u, dev)
	case "subscription":
		_, err = s.Customers.SetSubscription(ctx, u.CustomerID, endpointID, slotID,
			customers.Subscription{Mode: f.Get("mode"), ProductID: f.Get("productId")})
	case "household":
		rename = map[string]string{"quantity": "amount", "delta": "amount"}
		var in customers.Household
		if in, err = householdInput(f); err == nil {
			_, err = s.Customers.SetHousehold(ctx, u.CustomerID, endpointID, slotID, in)
		}
	case "installed":
		rename = map[string]string{"installedAt": "date"}
		when := strings.TrimSpace(f.Get("date"))
		if f.Get("when") == "today" {
			when = s.now().UTC().Format(time.RFC3339)
		} else if when == "" {
			err = replenish.FieldError("date", "required: the date the part went in, such as 2026-11-22")
		}
		if err == nil {
			_, err = s.Customers.SetInstalled(ctx, u.CustomerID, endpointID, slotID, customers.Installed{InstalledAt: when})
		}
	}
	switch replenish.ErrorCode(err) {
	case "":
		return true, nil
	case replenish.EInvalid, replenish.EConflict:
		v.refuse(r, form, err, rename)
		return false, nil
	}
	return false, err
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// householdInput reads the inventory form: set, add or remove an amount.
func householdInput(f url.Values) (customers.Household, error) {
	in := customers.Household{Reason: f.Get("reason")}
	raw := strings.TrimSpace(f.Get("amount"))
	x, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
	fields := replenish.Fields{}
	switch {
	case raw == "":
		fields.Add("amount", "required: how much")
	case err != nil || math.IsNaN(x) || math.IsInf(x, 0):
		fields.Add("amount", "must be a number, such as 2 or 1.5")
	case x < 0:
		fields.Add("amount", "must be 0 or more")
	}
	if strings.TrimSpace(in.Reason) == "" {
		fields.Add("reason", "required: say why, such as \"bought a pack\" or \"counted them\"")
	}
	switch f.Get("change") {
	case "set":
		in.Quantity = &x
	case "add":
		in.Delta = &x
	case "remove":
		neg := -x
		in.Delta = &neg
	default:
		fields.Add("change", "choose set, add or remove")
	}
	if (f.Get("change") == "add" || f.Get("change") == "remove") && err == nil && x == 0 {
		fields.Add("amount", "must be more than 0 to add or remove")
	}
	return in, fields.Err()
}

// saveSettings renames a device and turns smart reorder on (every supply
// orders by itself: AUTO) or off (the customer is told: NOTIFY).
func (s *Server) saveSettings(r *http.Request, u replenish.User, dev *customers.Endpoint) error {
	ctx := r.Context()
	name := r.PostForm.Get("friendlyName")
	smart := r.PostForm.Get("smartReorder") == "on"
	if smart {
		for _, sl := range dev.Slots {
			if sl.ProductID == "" {
				return replenish.FieldError("smartReorder", "choose a product for "+sl.Name+" on the Supplies page first")
			}
		}
	}
	if _, err := s.Customers.Rename(ctx, u.CustomerID, dev.EndpointID, &name); err != nil {
		return err
	}
	for _, sl := range dev.Slots {
		mode := sl.Mode
		switch {
		case smart:
			mode = replenish.ModeAuto
		case sl.Mode == replenish.ModeAuto:
			mode = replenish.ModeNotify
		}
		if mode == sl.Mode {
			continue
		}
		if _, err := s.Customers.SetSubscription(ctx, u.CustomerID, dev.EndpointID, sl.SlotID, customers.Subscription{Mode: mode}); err != nil {
			if replenish.ErrorCode(err) == replenish.EInvalid {
				return replenish.FieldError("smartReorder", sl.Name+": "+err.(*replenish.Error).Message)
			}
			return err
		}
	}
	return nil
}

// head is what the device-head template shows.
type head struct {
	Device customers.Endpoint
	Model  customers.PageModel
}

// Head returns a device with its model, for the device-head template.
func (m *managed) Head(d customers.Endpoint) head {
	return head{Device: d, Model: m.Page.Models[d.ModelID]}
}

// Head returns a device with its model, for the device-head template.
func (g deviceGroup) Head(d customers.Endpoint) head {
	return head{Device: d, Model: g.Page.Models[d.ModelID]}
}

// formID names the form of one device, or of one of its slots.
func formID(action, endpointID string, slotID ...string) string {
	id := action + "-" + endpointID
	if action != "settings" {
		id += "-" + strings.Join(slotID, "")
	}
	return id
}
