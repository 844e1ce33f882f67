package account

import (
	"net/http"
	"strings"

	"replenish"
	"replenish/calendar"
	"replenish/customers"
	"replenish/notifications"
	"replenish/orders"
	"replenish/pagelink"
	"replenish/web"
)

// deviceGroup is one vendor's devices on the home page.
type deviceGroup struct {
	Vendor customers.VendorLink
	Page   customers.Page
	link   pagelink.Link
}

// Link returns the path of page type t of one of the group's models.
func (g deviceGroup) Link(t, modelID string) string {
	l := g.link
	l.PageType, l.ModelID = t, modelID
	return l.WebPath()
}

// home lists the customer's devices of every linked vendor.
func (s *Server) home(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	vs, err := s.Customers.Vendors(r.Context(), u.CustomerID)
	if err != nil {
		return err
	}
	var groups []deviceGroup
	for _, v := range vs {
		p, err := s.Customers.Page(r.Context(), u.CustomerID, v.Code, "")
		if err != nil {
			return err
		}
		// A vendor shows when linked, or when the customer claimed one of
		// its CONNECT_KIT devices, which need no link.
		if v.Status != replenish.LinkLinked && len(p.Devices) == 0 {
			continue
		}
		groups = append(groups, deviceGroup{Vendor: v, Page: p, link: pagelink.Link{VendorCode: v.Code}})
	}
	s.render(w, r, http.StatusOK, "home", &view{Title: "Your devices", Customer: &u, Data: groups})
	return nil
}

// vendorsData is the vendors page's data.
type vendorsData struct {
	Vendors []customers.VendorLink
	Next    string
}

// vendors lists the vendors a customer may link, each with a button.
func (s *Server) vendors(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	vs, err := s.Customers.Vendors(r.Context(), u.CustomerID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "vendors", &view{Title: "Link a vendor account", Customer: &u,
		Data: vendorsData{Vendors: vs, Next: safeNext(r.URL.Query().Get("next"))}})
	return nil
}

// link starts linking a vendor's account: a vendor that signs customers
// in gets the browser, which comes back to Replenish's callback page;
// any other is linked at once.
func (s *Server) link(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	code := r.PathValue("vendorCode")
	l, err := s.Linking.Link(r.Context(), u.CustomerID, code)
	if err != nil {
		return err
	}
	if l.AuthorizeURL != "" {
		http.Redirect(w, r, l.AuthorizeURL, http.StatusSeeOther)
		return nil
	}
	next := safeNext(r.PostForm.Get("next"))
	if next == "" {
		next = pagelink.Link{PageType: pagelink.DeviceList, VendorCode: code}.WebPath()
	}
	seeOther(w, r, next, "linked")
	return nil
}

func (s *Server) unlink(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := s.Linking.Unlink(r.Context(), u.CustomerID, r.PathValue("vendorCode")); err != nil {
		return err
	}
	seeOther(w, r, "/account/vendors", "unlinked")
	return nil
}

// orders lists the customer's orders, newest first, with a way to cancel
// each that can still be.
func (s *Server) orders(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showOrders(w, r, u, &view{}, http.StatusOK)
}

func (s *Server) showOrders(w http.ResponseWriter, r *http.Request, u replenish.User, v *view, status int) error {
	os, _, err := s.Orders.List(r.Context(), u.Principal(), orders.Query{})
	if err != nil {
		return err
	}
	if v.Title == "" {
		v.Title = "Your orders"
	}
	v.Customer = &u
	v.Data, err = s.ordersData(r, u, os)
	if err != nil {
		return err
	}
	s.render(w, r, status, "orders", v)
	return nil
}

// ordersData are orders with the names of their devices and supplies.
type ordersData struct {
	Orders []replenish.Order
	names  map[[2]string]string
}

// Supply names an order's device and supply as the customer knows them.
func (d ordersData) Supply(o replenish.Order) string {
	if n := d.names[[2]string{o.EndpointID, o.SlotID}]; n != "" {
		return n
	}
	return o.EndpointID + " · " + o.SlotID
}

func (s *Server) ordersData(r *http.Request, u replenish.User, os []replenish.Order) (ordersData, error) {
	d := ordersData{Orders: os, names: map[[2]string]string{}}
	if len(os) == 0 {
		return d, nil
	}
	es, err := s.Customers.Endpoints(r.Context(), u.CustomerID)
	if err != nil {
		return d, err
	}
	for _, e := range es {
		for _, sl := range e.Slots {
			d.names[[2]string{e.EndpointID, sl.SlotID}] = e.FriendlyName + " · " + sl.Name
		}
	}
	return d, nil
}

// order shows one order, with a way to cancel it while it can be: where
// the e-mail about an order leads.
func (s *Server) order(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	o, err := s.Orders.Order(r.Context(), u.Principal(), r.PathValue("orderId"))
	if err != nil {
		return err
	}
	d, err := s.ordersData(r, u, []replenish.Order{o})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "orders", &view{Title: "Your order", Customer: &u, Data: d})
	return nil
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("orderId")
	_, err := s.Orders.Cancel(r.Context(), u.Principal(), id, r.PostForm.Get("reason"))
	switch replenish.ErrorCode(err) {
	case "":
		seeOther(w, r, "/account/orders", "cancelled")
		return nil
	case replenish.EInvalid, replenish.EConflict:
		v := &view{}
		v.refuse(r, "cancel-"+id, err, nil)
		return s.showOrders(w, r, u, v, http.StatusBadRequest)
	}
	return err
}

// feed shows the customer's notifications, newest first.
func (s *Server) feed(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	fs, err := s.Customers.Feed(r.Context(), u.CustomerID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "feed", &view{Title: "Notifications", Customer: &u, Data: fs})
	return nil
}

// markRead marks every feed entry of the customer read.
func (s *Server) markRead(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := s.Notifications.MarkRead(r.Context(), u.CustomerID, nil); err != nil {
		return err
	}
	seeOther(w, r, "/account/feed", "")
	return nil
}

// notificationsData is the notification settings page's data.
type notificationsData struct {
	Settings notifications.SettingsView
	Types    []string
	// Secret is a new webhook's signing secret, shown once.
	Secret string
	// CalendarURL is the address of the customer's calendar feed.
	CalendarURL string
	// OwnBroker is where Home Assistant reaches Replenish's own MQTT
	// broker ("" when this Replenish runs none: the choice is off).
	OwnBroker string
}

// TypeName is how the page names a notification type.
func (notificationsData) TypeName(t string) string {
	return map[string]string{replenish.FeedLowSupply: "A supply runs low", replenish.FeedOrderPlaced: "An order is placed",
		replenish.FeedOrderShipped: "An order ships", replenish.FeedOrderDelivered: "An order arrives",
		replenish.FeedOrderCancelled: "An order is cancelled", replenish.FeedNotReporting: "A device stops reporting"}[t]
}

func (s *Server) notificationSettings(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showNotifications(w, r, u, &view{}, http.StatusOK, "", "")
}

// showNotifications shows the settings page, with secret (a new
// webhook's signing secret) and password (the new password of Home
// Assistant's account on Replenish's broker) shown this once.
func (s *Server) showNotifications(w http.ResponseWriter, r *http.Request, u replenish.User, v *view, status int,
	secret, password string) error {
	set, err := s.Notifications.Settings(r.Context(), u.CustomerID, s.HomeAssistant.OwnBroker())
	if err != nil {
		return err
	}
	token, err := s.Calendar.Token(r.Context(), u.CustomerID)
	if err != nil {
		return err
	}
	base := s.BaseURL
	if base == "" {
		base = "http://" + r.Host
		if r.TLS != nil {
			base = "https://" + r.Host
		}
	}
	v.Title, v.Customer = "Notification settings", &u
	if set.HomeAssistant.Account != nil {
		set.HomeAssistant.Account.Password = password
	}
	v.Data = notificationsData{Settings: set, Types: replenish.FeedTypes, Secret: secret,
		CalendarURL: calendar.URL(base, token), OwnBroker: s.HomeAssistant.OwnBroker()}
	s.render(w, r, status, "notifications", v)
	return nil
}

func (s *Server) putNotificationSettings(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	email, feed := f.Get("email") == "on", f.Get("feed") == "on"
	hook := strings.TrimSpace(f.Get("webhookUrl"))
	types := map[string]bool{}
	for _, t := range replenish.FeedTypes {
		types[t] = false
	}
	for _, t := range f["types"] {
		if _, ok := types[t]; ok {
			types[t] = true
		}
	}
	out, err := s.Notifications.PutSettings(r.Context(), u.CustomerID,
		notifications.SettingsInput{Email: &email, Feed: &feed, WebhookURL: &hook, Types: types}, s.HomeAssistant.OwnBroker())
	switch replenish.ErrorCode(err) {
	case "":
		if out.WebhookSecret != "" {
			// The secret is shown this once, so the page answers at once.
			return s.showNotifications(w, r, u, &view{Notice: "Saved. Your webhook's signing secret is below: copy it now."},
				http.StatusOK, out.WebhookSecret, "")
		}
		seeOther(w, r, "/account/notifications", "saved")
		return nil
	case replenish.EInvalid:
		v := &view{}
		v.refuse(r, "notifications", err, nil)
		return s.showNotifications(w, r, u, v, http.StatusBadRequest, "", "")
	}
	return err
}

// putHomeAssistant turns the customer's Home Assistant bridge on or off,
// moves it to another broker or to Replenish's own (mode=embedded), or
// gives its account there a new password (newPassword=on, alone). A new
// password is shown at once, this once.
func (s *Server) putHomeAssistant(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	var in notifications.HomeAssistantInput
	on := f.Get("enabled") == "on"
	if f.Get("newPassword") == "on" {
		yes := notifications.Flag(true)
		in.NewPassword = &yes
	} else {
		broker, prefix := f.Get("brokerUrl"), f.Get("discoveryPrefix")
		embedded := notifications.Flag(f.Get("mode") == "embedded")
		in = notifications.HomeAssistantInput{Enabled: &on, Embedded: &embedded}
		if !embedded {
			in.BrokerURL, in.DiscoveryPrefix = &broker, &prefix
		}
	}
	out, err := s.Notifications.PutSettings(r.Context(), u.CustomerID, notifications.SettingsInput{HomeAssistant: &in},
		s.HomeAssistant.OwnBroker())
	switch replenish.ErrorCode(err) {
	case "":
		if s.HomeAssistant != nil {
			s.HomeAssistant.Changed(u.CustomerID)
		}
		if a := out.HomeAssistant.Account; a != nil && a.Password != "" {
			return s.showNotifications(w, r, u, &view{Notice: "Saved. Home Assistant's password for Replenish's broker is below: " +
				"copy it into Home Assistant now, it is shown this once."}, http.StatusOK, "", a.Password)
		}
		notice := "bridge-off"
		if out.HomeAssistant.Enabled {
			notice = "bridge-on"
		}
		seeOther(w, r, "/account/notifications", notice)
		return nil
	case replenish.EInvalid:
		v := &view{}
		v.refuse(r, "homeassistant", err, map[string]string{"homeAssistant.brokerUrl": "brokerUrl",
			"homeAssistant.discoveryPrefix": "discoveryPrefix", "homeAssistant.embedded": "mode",
			"homeAssistant.newPassword": "mode"})
		return s.showNotifications(w, r, u, v, http.StatusBadRequest, "", "")
	}
	return err
}

// BridgeState is how the page names the bridge's state.
func (notificationsData) BridgeState(state string) string {
	return map[string]string{replenish.BridgeOff: "Off", replenish.BridgeConnecting: "Connecting",
		replenish.BridgeConnected: "Connected", replenish.BridgeRetrying: "Not connected: retrying",
		replenish.BridgeRemoving: "Off: removing its entities from Home Assistant"}[state]
}

// rotateCalendar gives the customer's calendar feed a new address.
func (s *Server) rotateCalendar(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if _, err := s.Calendar.Rotate(r.Context(), u.CustomerID); err != nil {
		return err
	}
	seeOther(w, r, "/account/notifications", "calendar")
	return nil
}

// profile shows who the customer is to Replenish, with the customer ID
// that vendors add as a test account.
func (s *Server) profile(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	c, err := s.Customers.Customer(r.Context(), u.CustomerID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "profile", &view{Title: "Your profile", Customer: &u, Data: c})
	return nil
}

// app is the mobile deep link's page: /spa/index.html#v2/drs/partner/page/...
// Its script turns the fragment into the web page's URL.
func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Opening Replenish", Data: struct{ Types []string }{pagelink.Types}}
	var buf strings.Builder
	if err := templates["app"].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.errorPage(w, r, nil, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", csp+"; script-src 'self'")
	h.Set("Referrer-Policy", "same-origin")
	w.Write([]byte(buf.String()))
}

// claimPage asks for a CONNECT_KIT device's claim code.
func (s *Server) claimPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	s.render(w, r, http.StatusOK, "claim", &view{Title: "Add a device", Customer: &u})
	return nil
}

// claim makes the device whose code the customer typed theirs, and shows
// it among their devices.
func (s *Server) claim(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	e, err := s.Devices.Claim(r.Context(), u.CustomerID, r.PostForm.Get("claimCode"), r.PostForm.Get("friendlyName"))
	switch code := replenish.ErrorCode(err); code {
	case "":
		seeOther(w, r, pagelink.Link{PageType: pagelink.DeviceList, VendorCode: e.VendorCode}.WebPath(), "claimed")
		return nil
	case replenish.EInvalid, replenish.ENotFound, replenish.EThrottled, replenish.EForbidden, replenish.ENotReady:
		v := &view{Title: "Add a device", Customer: &u}
		v.refuse(r, "claim", err, nil)
		if code != replenish.EInvalid {
			// The code is what is wrong, whatever the service says.
			v.Fields["claimCode"] = v.Problem
		}
		s.render(w, r, web.Status(code), "claim", v)
		return nil
	}
	return err
}

// removeDevice gives up a CONNECT_KIT device.
func (s *Server) removeDevice(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.Devices.Release(r.Context(), u.CustomerID, r.PathValue("endpointId")); err != nil {
		return err
	}
	seeOther(w, r, "/account/", "removed")
	return nil
}
