// Package account is the customer's web pages: sign-up and sign-in, the
// seven management pages that vendors' apps and sites link to (Dash's
// page types, at every URL form Dash uses), and the pages around them:
// linking a vendor, orders, the feed, notification settings and the
// profile. Pages are server-rendered from embedded templates with one
// style sheet of their own; charts are SVG drawn here.
package account

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"replenish"
	"replenish/calendar"
	"replenish/customers"
	"replenish/devices"
	"replenish/homeassistant"
	"replenish/linking"
	"replenish/measure"
	"replenish/notifications"
	"replenish/orders"
	"replenish/users"
	"replenish/web"
)

// Server holds what the customer pages need.
type Server struct {
	Users         *users.Service
	Customers     *customers.Service
	Orders        *orders.Service
	Notifications *notifications.Service
	Linking       *linking.Service
	// Devices claims and releases CONNECT_KIT devices.
	Devices *devices.Service
	// Calendar is the customers' calendar feeds.
	Calendar *calendar.Service
	// HomeAssistant is told when a customer changes their bridge (nil:
	// no bridge runs in this process).
	HomeAssistant *homeassistant.Bridge
	Log           *slog.Logger
	// BaseURL is the service's public URL; an https one makes the
	// session cookie Secure even behind a proxy that ends TLS.
	BaseURL string
	// Now is the clock ("I replaced it today"); nil is time.Now.
	Now func() time.Time
}

//go:embed templates static
var files embed.FS

// templates holds each page parsed with the layout, by page name.
var templates = func() map[string]*template.Template {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(files, "templates/layout.html", name))
	}
	return out
}()

// view is what every template gets: the layout's parts, the refused form
// if any, and the page's own data.
type view struct {
	Title string
	// Customer is the signed-in customer's user (nil when signed out).
	Customer *replenish.User
	// Exit is the allowed way back to the vendor ("" when none), and
	// ExitName names where it goes.
	Exit     template.URL
	ExitName string
	Notice   string
	// Problem is a refused form's message; FormID names the form, Fields
	// its field errors and Form what was typed.
	Problem string
	FormID  string
	Fields  map[string]string
	Form    url.Values
	Data    any
}

// Err returns the message for field when form is the refused one.
func (v *view) Err(form, field string) string {
	if v.FormID != form {
		return ""
	}
	return v.Fields[field]
}

// Val returns what was typed in field when form is the refused one, else def.
func (v *view) Val(form, field, def string) string {
	if v.FormID != form || v.Form == nil {
		return def
	}
	return v.Form.Get(field)
}

// Refused reports whether form is the refused one.
func (v *view) Refused(form string) bool { return v.FormID == form && v.Problem != "" }

// refuse records a refused form on v: err's fields, renamed by rename
// (service field → form field), and what was typed.
func (v *view) refuse(r *http.Request, form string, err error, rename map[string]string) {
	var e *replenish.Error
	errors.As(err, &e)
	v.FormID, v.Form, v.Fields = form, r.PostForm, map[string]string{}
	v.Problem = e.Message
	for k, msg := range e.Fields {
		if to, ok := rename[k]; ok {
			k = to
		}
		v.Fields[k] = msg
	}
}

// csp is the pages' Content-Security-Policy: nothing from elsewhere, no
// inline script or style, never framed. No form-action: a form's answer
// may rightly redirect to a vendor's sign-in page or to its exitUri.
const csp = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

// notices are the messages a redirect after a change may show, named by
// the done query parameter; fixed, so that a link cannot make a page say
// anything else.
var notices = map[string]string{
	"saved":      "Saved.",
	"cancelled":  "Order cancelled.",
	"linked":     "Linked. Your devices are below.",
	"unlinked":   "Unlinked. The vendor no longer reports to Replenish for you.",
	"welcome":    "Welcome to Replenish. Link a vendor account to see your devices.",
	"calendar":   "Your calendar has a new address. The old one no longer works: subscribe to the new one.",
	"bridge-on":  "Saved. Replenish is connecting to your broker: the state below says how it goes.",
	"bridge-off": "Saved. The bridge is off: Replenish removes its entities from Home Assistant and disconnects.",
	"claimed":    "Added. The device reports here once it is on and connected.",
	"removed":    "Removed. The device is no longer yours; its maker can give a new code to set it up again.",
}

// render writes the page name with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if v.Notice == "" {
		v.Notice = notices[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := templates[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Log.Error("rendering a customer page", "id", w.Header().Get("X-Request-Id"), "page", name, "err", err)
		http.Error(w, "internal error; the request ID is "+w.Header().Get("X-Request-Id"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", csp)
	// Page URLs carry the vendor's exitUri: other sites need not see them.
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// problem turns err into a message safe to show and its status, logging
// internal errors once with the request's ID.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) (*replenish.Error, int) {
	id := w.Header().Get("X-Request-Id")
	var e *replenish.Error
	if !errors.As(err, &e) || e.Code == replenish.EInternal {
		s.Log.Error("internal error", "id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		e = &replenish.Error{Code: replenish.EInternal, Message: "Something went wrong on our side; the request ID is " + id}
	} else if e.Err != nil {
		s.Log.Warn("request failed", "id", id, "code", e.Code, "err", err)
	}
	return e, web.Status(e.Code)
}

// errorPage shows err as a page of its own.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, u *replenish.User, err error) {
	e, status := s.problem(w, r, err)
	title := map[int]string{http.StatusBadRequest: "This link is missing something", http.StatusNotFound: "Not found",
		http.StatusForbidden: "Not allowed", http.StatusTooManyRequests: "Too many attempts"}[status]
	if title == "" {
		title = http.StatusText(status)
	}
	s.render(w, r, status, "error", &view{Title: title, Customer: u, Problem: e.Message})
}

// field returns the first field an error names, for a page that shows
// one parameter's problem.
func field(err error) string {
	var e *replenish.Error
	if !errors.As(err, &e) {
		return ""
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// parseForm reads a form body of at most 64 KiB.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return replenish.Errorf(replenish.ETooLarge, "the form is over 64 KiB")
		}
		return replenish.FieldError("body", "a form is expected")
	}
	return nil
}

// seeOther redirects after a change to path with the notice done.
func seeOther(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		u, _ := url.Parse(path)
		q := u.Query()
		q.Set("done", done)
		u.RawQuery = q.Encode()
		path = u.String()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string {
		return t.UTC().Format("2 Jan 2006, 15:04 UTC")
	},
	"isoDate": func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"num":     num,
	"unit":    unitLabel,
	// level is a slot's level as a percentage for its bar, and whether
	// there is one: percentage sensors only.
	"percent": func(sl customers.Slot) float64 {
		if sl.Level == nil {
			return 0
		}
		return math.Max(0, math.Min(100, sl.Level.Value))
	},
	"hasBar":  func(sl customers.Slot) bool { return sl.Level != nil && sl.Level.Type == measure.Percentage },
	"lower":   strings.ToLower,
	"periods": func() []int { return periods },
	"FormID":  formID,
	"title": func(s string) string {
		return strings.ToUpper(s[:min(1, len(s))]) + strings.ToLower(s[min(1, len(s)):])
	},
	"has": func(list []string, s string) bool { return slices.Contains(list, s) },
	"modeName": func(m string) string {
		return map[string]string{replenish.ModeAuto: "Smart reorder", replenish.ModeNotify: "Tell me",
			replenish.ModeOff: "Off"}[m]
	},
	"smart": func(e customers.Endpoint) bool {
		for _, sl := range e.Slots {
			if sl.Mode != replenish.ModeAuto {
				return false
			}
		}
		return len(e.Slots) > 0
	},
	"statusName": func(s string) string {
		return map[string]string{replenish.StatusOK: "OK", replenish.StatusLow: "Low",
			replenish.StatusNotReporting: "Not reporting", replenish.StatusUnknown: "No reading yet"}[s]
	},
	"historyName": func(t string) string {
		return map[string]string{replenish.HistoryReading: "Reading", replenish.HistoryConsumption: "Used",
			replenish.HistoryReplacement: "New part", replenish.HistoryHousehold: "Household inventory",
			replenish.HistoryOrder: "Order", replenish.HistoryNotification: "Notification",
			replenish.HistoryChange: "Change"}[t]
	},
	"deref": func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	},
}
