// Package calendar is the customer's calendar feed: an iCalendar (RFC
// 5545) document with an all-day event for each slot's run-out date and
// next order date, and for each open order's expected delivery. A
// calendar application subscribes to its secret address and, since every
// event keeps its UID, sees events move as the forecast changes instead
// of piling up.
package calendar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"replenish"
	"replenish/customers"
	"replenish/storage"
)

// Service runs the calendar's use cases.
type Service struct {
	store     storage.Store
	customers *customers.Service
	now       func() time.Time
}

// New returns a Service on store; the slots' dates come from customers.
func New(store storage.Store, cs *customers.Service, now func() time.Time) *Service {
	return &Service{store: store, customers: cs, now: now}
}

// tokenPrefix starts every feed token, so that one found in a log or a
// paste says what it is.
const tokenPrefix = "cal_"

// URL is the whole address of the feed that token names, on base (the
// service's public URL).
func URL(base, token string) string {
	return strings.TrimSuffix(base, "/") + "/calendar/" + token + ".ics"
}

// Token returns the customer's feed token, made the first time it is
// asked for.
func (s *Service) Token(ctx context.Context, customerID string) (string, error) {
	var token string
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		token, err = tx.CalendarToken(ctx, customerID)
		return err
	})
	if replenish.ErrorCode(err) != replenish.ENotFound || token != "" {
		return token, err
	}
	err = s.store.Write(ctx, func(tx storage.Tx) (err error) {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		// Another request may have made it in the meantime.
		token, err = tx.CalendarToken(ctx, customerID)
		if replenish.ErrorCode(err) != replenish.ENotFound {
			return err
		}
		token = replenish.NewSecret(tokenPrefix)
		return tx.PutCalendarToken(ctx, customerID, token, s.now())
	})
	return token, err
}

// Rotate gives the customer a new feed token; the old address stops
// working at once.
func (s *Service) Rotate(ctx context.Context, customerID string) (string, error) {
	token := replenish.NewSecret(tokenPrefix)
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		return tx.PutCalendarToken(ctx, customerID, token, s.now())
	})
	return token, err
}

// Feed returns the iCalendar document that token names; an unknown
// token is not found.
func (s *Service) Feed(ctx context.Context, token string) ([]byte, error) {
	var customerID string
	var open []replenish.Order
	var lead float64
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		if !strings.HasPrefix(token, tokenPrefix) {
			return &replenish.Error{Code: replenish.ENotFound, Message: "calendar not found"}
		}
		if customerID, err = tx.CalendarCustomer(ctx, replenish.HashSecret(token)); err != nil {
			return err
		}
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		m, err := tx.Marketplace(ctx, c.Marketplace)
		if err != nil {
			return err
		}
		lead = m.LeadDays
		for _, st := range []string{replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped} {
			os, err := tx.ListOrders(ctx, storage.OrderFilter{CustomerID: customerID, Status: st})
			if err != nil {
				return err
			}
			open = append(open, os...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	es, err := s.customers.Snapshot(ctx, customerID)
	if err != nil {
		return nil, err
	}
	return encode(Events(customerID, es, open, lead, s.now()), s.now())
}

// Event kinds, which also tell events of the same slot apart.
const (
	KindRunOut    = "run-out"
	KindNextOrder = "next-order"
	KindDelivery  = "delivery"
)

// Event is one all-day event of the feed.
type Event struct {
	UID         string
	Kind        string
	Date        time.Time // the day, at midnight UTC
	Summary     string
	Description string
}

// Events returns the feed's events, by date then UID: each slot's
// run-out and next order dates (when forecast), and each open order's
// expected delivery: its release (the end of the cancellation window)
// plus the marketplace's lead time of leadDays, or today when that day
// has passed and the order has not arrived.
func Events(customerID string, es []customers.Endpoint, open []replenish.Order, leadDays float64, now time.Time) []Event {
	var out []Event
	type slotKey struct{ vendor, endpoint, slot string }
	names := map[slotKey]string{}
	for _, e := range es {
		for _, sl := range e.Slots {
			name := slotName(e, sl)
			names[slotKey{e.VendorCode, e.EndpointID, sl.SlotID}] = name
			key := []string{customerID, e.VendorCode, e.EndpointID, sl.SlotID}
			if sl.RunOutDate != nil {
				out = append(out, Event{UID: uid(KindRunOut, key...), Kind: KindRunOut, Date: day(*sl.RunOutDate),
					Summary:     name + " runs out",
					Description: "Forecast: the supply of " + calName + ", with spares at home and any open order, runs out on this day."})
			}
			if sl.NextOrderDate != nil {
				out = append(out, Event{UID: uid(KindNextOrder, key...), Kind: KindNextOrder, Date: day(*sl.NextOrderDate),
					Summary:     "Replenish orders " + name,
					Description: "Forecast: Replenish expects to order " + calName + " on this day."})
			}
		}
	}
	today := day(now)
	leadTime := time.Duration(math.Round(leadDays * float64(24*time.Hour)))
	for _, o := range open {
		name := names[slotKey{o.VendorCode, o.EndpointID, o.SlotID}]
		if name == "" {
			name = o.ProductID
		}
		d := day(o.CancelBy.Add(leadTime))
		if d.Before(today) {
			d = today
		}
		out = append(out, Event{UID: uid(KindDelivery, customerID, o.OrderID), Kind: KindDelivery, Date: d,
			Summary: name + " arrives",
			Description: fmt.Sprintf("Expected delivery of order %s: %d x %s (%s).",
				o.OrderID, o.Quantity, o.ProductID, strings.ToLower(o.Status))})
	}
	slices.SortFunc(out, func(a, b Event) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return strings.Compare(a.UID, b.UID)
	})
	return out
}

func slotName(e customers.Endpoint, sl customers.Slot) string {
	name := sl.Name
	if name == "" {
		name = sl.SlotID
	}
	if e.FriendlyName != "" {
		name += " (" + e.FriendlyName + ")"
	}
	return name
}

// uid names an event for good: the same slot's run-out date, say, keeps
// its UID whatever the date, so calendars move the event. It is a hash,
// so that no identifier needs escaping and none is shown.
func uid(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{kind}, parts...), "\x00")))
	return kind + "-" + hex.EncodeToString(h[:16]) + "@replenish"
}

// day is t's calendar day in UTC: the service knows no customer's time
// zone, and all-day events are dates, not instants.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Refresh is how often a calendar application is asked to fetch the feed
// again.
const Refresh = time.Hour

// Calendar properties.
const (
	productID = "-//Replenish//Calendar feed//EN"
	calName   = "Replenish"
)

// empty is the feed without events. RFC 5545 asks a calendar for one
// component at least, and the library's encoder holds to that; calendar
// applications read this as an empty calendar, which says "nothing
// planned" better than a made-up event would.
const empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + productID + "\r\nCALSCALE:GREGORIAN\r\n" +
	"METHOD:PUBLISH\r\nNAME:" + calName + "\r\nX-WR-CALNAME:" + calName + "\r\n" +
	"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\nEND:VCALENDAR\r\n"

// encode writes the calendar's events.
func encode(events []Event, now time.Time) ([]byte, error) {
	if len(events) == 0 {
		return []byte(empty), nil
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, productID)
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	cal.Props.SetText(ical.PropName, calName)
	cal.Props.SetText("X-WR-CALNAME", calName)
	refresh := ical.NewProp(ical.PropRefreshInterval)
	refresh.SetDuration(Refresh)
	cal.Props.Set(refresh)
	cal.Props.SetText("X-PUBLISHED-TTL", "PT1H")
	stamp := now.UTC().Truncate(time.Second)
	for _, e := range events {
		ev := ical.NewEvent()
		ev.Props.SetText(ical.PropUID, e.UID)
		ev.Props.SetDateTime(ical.PropDateTimeStamp, stamp)
		ev.Props.SetDate(ical.PropDateTimeStart, e.Date)
		ev.Props.SetDate(ical.PropDateTimeEnd, e.Date.AddDate(0, 0, 1))
		ev.Props.SetText(ical.PropSummary, e.Summary)
		ev.Props.SetText(ical.PropDescription, e.Description)
		ev.Props.SetText(ical.PropCategories, strings.ToUpper(e.Kind))
		// A reminder of a date, not an appointment: it keeps the day free.
		ev.Props.SetText(ical.PropTransparency, "TRANSPARENT")
		cal.Children = append(cal.Children, ev.Component)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return fold(buf.Bytes()), nil
}

// fold breaks content lines longer than 75 octets, as RFC 5545 (3.1)
// asks and the library's encoder does not: the rest goes on lines that
// start with a space, never inside a UTF-8 sequence.
func fold(raw []byte) []byte {
	const max = 75
	var out bytes.Buffer
	for line := range bytes.SplitAfterSeq(raw, []byte("\r\n")) {
		body, crlf := bytes.CutSuffix(line, []byte("\r\n"))
		limit := max
		for len(body) > limit {
			cut := limit
			for cut > 0 && !utf8.RuneStart(body[cut]) {
				cut--
			}
			out.Write(body[:cut])
			out.WriteString("\r\n ")
			body = body[cut:]
			limit = max - 1 // the leading space counts
		}
		out.Write(body)
		if crlf {
			out.WriteString("\r\n")
		}
	}
	return out.Bytes()
}
