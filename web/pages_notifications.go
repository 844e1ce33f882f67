package web

// The notification pages: the operator reads the customer e-mails (with
// no SMTP server configured they are kept, never sent, and this page is
// where one reads what would have been sent), and a vendor follows its
// webhook deliveries and sends one again. Both read through the
// notifications service's List, like GET /api/v1/notifications.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"replenish"
	"replenish/mail"
	"replenish/notifications"
	"replenish/storage"
)

// statusTab is one tab of a list by status; Status "ALL" is every status.
type statusTab = struct{ Status, Name string }

// emailTabs are the e-mails page's tabs; kept ones first, as they are the
// page's reason to be when no SMTP server is configured.
var emailTabs = []statusTab{
	{"ALL", "All"}, {storage.NotificationKept, "Kept"}, {storage.NotificationPending, "Pending"},
	{storage.NotificationDelivered, "Delivered"}, {storage.NotificationFailed, "Failed"},
}

// webhookTabs are the webhook deliveries page's tabs: webhooks are never
// kept.
var webhookTabs = []statusTab{
	{"ALL", "All"}, {storage.NotificationPending, "Pending"},
	{storage.NotificationDelivered, "Delivered"}, {storage.NotificationFailed, "Failed"},
}

// notificationList reads a notification list's filter from the query
// string: the status (every status by default), the vendor and the
// cursor.
func notificationList(r *http.Request, tabs []statusTab) (status, vendor, cursor string, err error) {
	q := r.URL.Query()
	status = strings.ToUpper(strings.TrimSpace(q.Get("status")))
	if status == "" {
		status = "ALL"
	}
	if !slices.ContainsFunc(tabs, func(t statusTab) bool { return t.Status == status }) {
		names := make([]string, len(tabs))
		for i, t := range tabs {
			names[i] = t.Status
		}
		return "", "", "", replenish.FieldError("status", "must be one of "+strings.Join(names, ", "))
	}
	return status, strings.TrimSpace(q.Get("vendor")), q.Get("cursor"), nil
}

// notificationsPage is what both pages share: the tab shown, the list's
// links and whether this is a later page.
type notificationsPage struct {
	Status string
	Tabs   []statusTab
	// Query is the list's query string with its "?", for the forms to
	// come back to the same list; First is its first page's, Older its
	// next page's ("" when there is none).
	Query, First, Older string
	Paged               bool
}

// readNotifications reads the page of the list in the query string: the
// notifications of channel that u may see.
func (s *Server) readNotifications(r *http.Request, u replenish.User, channel string, tabs []statusTab) (notificationsPage, string, []notifications.Delivery, error) {
	status, vendor, cursor, err := notificationList(r, tabs)
	if err != nil {
		return notificationsPage{}, "", nil, err
	}
	filter := status
	if status == "ALL" {
		filter = ""
	}
	ds, next, err := s.Notifications.List(r.Context(), u.Principal(),
		notifications.Query{Channel: channel, Status: filter, VendorCode: vendor, Cursor: cursor})
	if err != nil {
		return notificationsPage{}, "", nil, err
	}
	v := notificationsPage{Status: status, Tabs: tabs, Paged: cursor != "",
		Query: "?" + listQuery(status, vendor, cursor).Encode(), First: "?" + listQuery(status, vendor, "").Encode()}
	if next != "" {
		v.Older = "?" + listQuery(status, vendor, next).Encode()
	}
	return v, vendor, ds, nil
}

// emailsView is the operator's e-mails page.
type emailsView struct {
	notificationsPage
	Emails []emailRow
	// SendsMail is whether an SMTP server is configured.
	SendsMail bool
}

// emailRow is one e-mail with its rendered message; Raw is the stored
// body when it is not a message (it never should be).
type emailRow struct {
	notifications.Delivery
	Message mail.Message
	Raw     string
}

// emailsCSP is pageCSP with inline style attributes allowed: the frames
// that show the e-mails' HTML parts inherit the page's policy, and
// e-mails are styled by style attributes (mail clients drop style
// sheets). Scripts stay forbidden twice, by the policy and the frames'
// sandbox, and the page's own data is escaped as on every page.
const emailsCSP = "default-src 'self'; img-src 'self' data:; style-src-attr 'unsafe-inline'; frame-ancestors 'none'"

func (s *Server) emailsPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	list, _, ds, err := s.readNotifications(r, u, storage.ChannelEmail, emailTabs)
	if err != nil {
		return err
	}
	v := emailsView{notificationsPage: list, SendsMail: s.Notifications.SendsMail()}
	for _, d := range ds {
		row := emailRow{Delivery: d}
		if err := json.Unmarshal(d.Body, &row.Message); err != nil {
			row.Raw = string(d.Body)
		}
		v.Emails = append(v.Emails, row)
	}
	s.render(w, r, http.StatusOK, "operator-emails", &page{Title: "E-mails", Data: v, csp: emailsCSP})
	return nil
}

// webhooksView is the webhook deliveries page: a vendor's own, or the
// operator's view of every vendor's.
type webhooksView struct {
	notificationsPage
	Deliveries []webhookRow
	// Operator is whether the operator looks, with Vendor the vendor
	// filter ("" for every vendor).
	Operator bool
	Vendor   string
	// NoWebhook is whether the vendor has no webhook URL: nothing new
	// is sent until it sets one.
	NoWebhook bool
	// Unlisted is whether a refused form's delivery is not on this list,
	// so its message shows above the list.
	Unlisted bool
}

// webhookRow is one delivery with its body indented for reading.
type webhookRow struct {
	notifications.Delivery
	Pretty string
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showWebhooks(w, r, u, &page{})
}

func (s *Server) showWebhooks(w http.ResponseWriter, r *http.Request, u replenish.User, p *page) error {
	list, vendor, ds, err := s.readNotifications(r, u, storage.ChannelVendor, webhookTabs)
	if err != nil {
		return err
	}
	v := webhooksView{notificationsPage: list, Operator: u.Role == replenish.RoleOperator, Vendor: vendor,
		Unlisted: p.Problem != ""}
	if !v.Operator {
		vd, err := s.Console.Vendor(r.Context(), u.VendorCode)
		if err != nil {
			return err
		}
		v.NoWebhook, v.Vendor = vd.Settings.WebhookURL == "", ""
	}
	for _, d := range ds {
		row := webhookRow{Delivery: d, Pretty: string(d.Body)}
		var buf bytes.Buffer
		if json.Indent(&buf, d.Body, "", "  ") == nil {
			row.Pretty = buf.String()
		}
		if p.FormID == "redeliver-"+d.NotificationID {
			v.Unlisted = false
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	p.Title, p.Data = "Notifications", v
	s.render(w, r, p.statusOr(http.StatusOK), "notifications", p)
	return nil
}

// redeliverForm queues a webhook delivery again, with the same
// notification ID, and goes back to the list the form was on.
func (s *Server) redeliverForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("notificationId")
	if _, err := s.Notifications.Redeliver(r.Context(), u.Principal(), id); err != nil {
		s.refuseWith(w, r, "redeliver-"+id, err, func(p *page) error { return s.showWebhooks(w, r, u, p) })
		return nil
	}
	status, vendor, cursor, err := notificationList(r, webhookTabs)
	if err != nil {
		status, vendor, cursor = "ALL", "", ""
	}
	back := listQuery(status, vendor, cursor)
	back.Set("done", "redelivered")
	http.Redirect(w, r, "/console/notifications?"+back.Encode(), http.StatusSeeOther)
	return nil
}
