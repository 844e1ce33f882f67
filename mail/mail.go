// Package mail renders the e-mails Replenish sends to customers and sends
// them over SMTP.
//
// Rendering and sending are apart on purpose: a message is rendered in the
// transaction that caused it (and kept, as JSON, until it is delivered), and
// sent later by a worker that retries what a retry can cure. Render is a
// plain function of a Notice; SMTP holds no state between messages.
package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"replenish"
)

// Notice is what a customer is told, with everything a message needs.
type Notice struct {
	// Type is one of replenish.FeedLowSupply, FeedOrderPlaced,
	// FeedOrderShipped, FeedOrderDelivered, FeedOrderCancelled and
	// FeedNotReporting.
	Type   string
	To     string // the customer's e-mail address
	Name   string // the customer's name
	Locale string // the customer's locale, e.g. "de-DE"
	// TimeZone is the customer's IANA time zone ("Europe/Berlin") for the
	// dates in the message; UTC when empty or unknown.
	TimeZone   string
	DeviceName string // the device's friendly name
	SlotName   string // the slot's name, localized by the vendor where it gave one
	ImageURL   string // absolute URL of the device's image, "" when none
	// Message is the plain sentence the in-app feed shows. The e-mail says
	// the same in the customer's language from the fields below; Message
	// is kept as the preview text of English messages.
	Message    string
	Amount     string     // what is left, as a person reads it ("6%"), LOW_SUPPLY
	RunOutDate *time.Time // projected run-out, when forecasts exist
	OrderAt    *time.Time // when smart reorder will order (AUTO), when known
	Mode       string     // replenish.ModeNotify, ModeAuto or ModeOff
	// Held, in AUTO mode, says smart reorder could not order this time
	// (product unavailable, price rose): the customer has to act.
	Held         bool
	OrderID      string
	ProductTitle string
	Price        string // a decimal string, "12.99"
	Currency     string
	Quantity     int
	CancelBy     time.Time // order placed: until when it can be cancelled
	CancelURL    string    // order placed: a link to cancel (absolute)
	Tracking     string    // shipped
	Reason       string    // cancelled: why
	// SettingsURL is the customer's notification settings (absolute): the
	// List-Unsubscribe header and the footer link.
	SettingsURL string
	// NotificationID is unique per notification; the Message-ID is made
	// from it so that receivers can deduplicate a message sent twice.
	NotificationID string
	// At is when it happened: the Date header. Zero: when it is sent.
	At time.Time
}

// Message is a rendered e-mail, ready to send; it is stored as JSON.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	// ListUnsubscribe is the List-Unsubscribe header's value, "<url>".
	ListUnsubscribe string `json:"listUnsubscribe"`
	// MessageID is the Message-ID header's value, "<id@replenish>".
	MessageID string `json:"messageId"`
	// Language is the language it was rendered in ("en", "de"): the
	// Content-Language header.
	Language string `json:"language,omitempty"`
	// Date is the Date header; zero: when it is sent.
	Date time.Time `json:"date,omitzero"`
}

// MessageIDDomain is the right-hand side of every Message-ID.
const MessageIDDomain = "replenish"

//go:embed templates
var templateFS embed.FS

var (
	textTemplate = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/message.txt"))
	htmlTemplate = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/message.html"))
)

// view is what the templates show; both the text and the HTML part are
// made from the same view, so they never say different things.
type view struct {
	Lang     string
	Subject  string
	Preview  string
	Greeting string
	Lead     string
	Details  []detail
	Next     string
	Action   *link
	Image    string
	ImageAlt string
	Footer   string
	Settings link
}

type detail struct{ Label, Value string }

type link struct{ Text, URL string }

// Render renders n in the customer's language where there is a table of
// strings for it (English and German today), falling back from the locale
// to its language and then to English.
func Render(n Notice) (Message, error) {
	if err := check(n); err != nil {
		return Message{}, err
	}
	t := tr{lang: language(n.Locale), loc: time.UTC}
	if n.TimeZone != "" {
		if loc, err := time.LoadLocation(n.TimeZone); err == nil {
			t.loc = loc
		}
	}
	v, err := build(n, t)
	if err != nil {
		return Message{}, err
	}
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("mail: text of %s: %w", n.Type, err)
	}
	if err := htmlTemplate.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("mail: HTML of %s: %w", n.Type, err)
	}
	return Message{
		To: n.To, Subject: v.Subject, Text: text.String(), HTML: html.String(),
		ListUnsubscribe: "<" + n.SettingsURL + ">",
		MessageID:       "<" + n.NotificationID + "@" + MessageIDDomain + ">",
		Language:        t.lang, Date: n.At,
	}, nil
}

// check refuses a notice that cannot make a well-formed message.
func check(n Notice) error {
	if _, err := netmail.ParseAddress(n.To); err != nil || strings.ContainsAny(n.To, "<>") {
		return fmt.Errorf("mail: To: %q is not an e-mail address", n.To)
	}
	if n.NotificationID == "" || strings.IndexFunc(n.NotificationID, notAtext) >= 0 {
		return fmt.Errorf("mail: NotificationID: %q is not usable in a Message-ID (letters, digits, . _ - only)", n.NotificationID)
	}
	if !absolute(n.SettingsURL) {
		return fmt.Errorf("mail: SettingsURL: %q is not an absolute http or https URL", n.SettingsURL)
	}
	for name, u := range map[string]string{"ImageURL": n.ImageURL, "CancelURL": n.CancelURL} {
		if u != "" && !absolute(u) {
			return fmt.Errorf("mail: %s: %q is not an absolute http or https URL", name, u)
		}
	}
	return nil
}

func notAtext(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
}

func absolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(s, "<> \t\r\n")
}

// build says, for each type, what happened and what to do next.
func build(n Notice, t tr) (view, error) {
	v := view{
		Lang: t.lang, Greeting: t.s("hello.noname"),
		Image: n.ImageURL, ImageAlt: n.DeviceName,
		Footer: t.s("footer"), Settings: link{t.s("footer.settings"), n.SettingsURL},
	}
	if name := strings.TrimSpace(n.Name); name != "" {
		v.Greeting = t.f("hello", name)
	}
	product := n.ProductTitle
	if n.Quantity > 1 {
		product = strconv.Itoa(n.Quantity) + " × " + product
	}
	orderDetails := func() {
		v.Details = append(v.Details, detail{t.s("label.product"), n.ProductTitle})
		if n.Quantity > 0 {
			v.Details = append(v.Details, detail{t.s("label.quantity"), strconv.Itoa(n.Quantity)})
		}
		if p := t.price(n.Price, n.Currency); p != "" {
			v.Details = append(v.Details, detail{t.s("label.price"), p})
		}
		if n.OrderID != "" {
			v.Details = append(v.Details, detail{t.s("label.order"), n.OrderID})
		}
	}
	switch n.Type {
	case replenish.FeedLowSupply:
		v.Subject = t.f("low.subject", n.SlotName, n.DeviceName)
		v.Lead = t.f("low.lead", n.SlotName, n.DeviceName)
		if n.Amount != "" {
			v.Details = append(v.Details, detail{t.s("label.left"), n.Amount})
		}
		if n.RunOutDate != nil {
			v.Details = append(v.Details, detail{t.s("label.runout"), t.when("date", *n.RunOutDate)})
		}
		switch {
		case n.Mode == replenish.ModeAuto && n.Held:
			v.Next = t.s("low.held")
		case n.Mode == replenish.ModeAuto && n.OrderAt != nil:
			v.Next = t.f("low.auto.at", t.when("datetime", *n.OrderAt))
		case n.Mode == replenish.ModeAuto:
			v.Next = t.s("low.auto")
		case n.Mode == replenish.ModeNotify:
			v.Next = t.s("low.notify")
		default:
			v.Next = t.s("low.off")
		}
	case replenish.FeedOrderPlaced:
		v.Subject = t.f("placed.subject", product)
		v.Lead = t.f("placed.lead", n.SlotName, n.DeviceName)
		orderDetails()
		if !n.CancelBy.IsZero() {
			v.Next = t.f("placed.next", t.when("datetime", n.CancelBy))
			if n.CancelURL != "" {
				v.Action = &link{t.s("placed.cancel"), n.CancelURL}
			}
		}
	case replenish.FeedOrderShipped:
		v.Subject = t.f("shipped.subject", product)
		v.Lead = t.f("shipped.lead", n.SlotName, n.DeviceName)
		orderDetails()
		if n.Tracking != "" {
			v.Details = append(v.Details, detail{t.s("label.tracking"), n.Tracking})
		}
		v.Next = t.s("shipped.next")
	case replenish.FeedOrderDelivered:
		v.Subject = t.f("delivered.subj", product)
		v.Lead = t.f("delivered.lead", n.SlotName, n.DeviceName)
		orderDetails()
		v.Next = t.f("delivered.next", n.DeviceName)
	case replenish.FeedOrderCancelled:
		v.Subject = t.f("cancelled.subj", product)
		v.Lead = t.f("cancelled.lead", n.SlotName, n.DeviceName)
		orderDetails()
		if n.Reason != "" {
			v.Details = append(v.Details, detail{t.s("label.reason"), n.Reason})
		}
		v.Next = t.s("cancelled.next")
	case replenish.FeedNotReporting:
		v.Subject = t.f("silent.subject", n.DeviceName)
		if n.SlotName != "" {
			v.Lead = t.f("silent.lead", n.DeviceName, n.SlotName)
		} else {
			v.Lead = t.f("silent.lead.dev", n.DeviceName)
		}
		v.Next = t.s("silent.next")
	default:
		return view{}, fmt.Errorf("mail: %w: %q", ErrUnknownType, n.Type)
	}
	v.Preview = v.Lead
	if t.lang == "en" && n.Message != "" {
		v.Preview = n.Message
	}
	// A subject is one line, whatever a vendor put in a name.
	v.Subject = strings.Join(strings.Fields(v.Subject), " ")
	return v, nil
}

// ErrUnknownType is returned by Render for a Notice.Type it has no message for.
var ErrUnknownType = errors.New("no e-mail for this notification type")
