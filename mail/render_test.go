package mail

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden files hold Berlin times wherever the tests run

	"replenish"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// notice is a full notice of type typ in locale, as the outbox makes one.
func notice(typ, locale string) Notice {
	runOut := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	orderAt := time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC)
	n := Notice{
		Type: typ, To: "anna@example.com", Name: "Anna", Locale: locale, TimeZone: "Europe/Berlin",
		DeviceName: "Kitchen purifier", SlotName: "Water filter",
		ImageURL: "https://replenish.example/images/acme/purifier-2",
		Message:  "Water filter on Kitchen purifier is low (6% left).",
		Amount:   "6%", Mode: replenish.ModeNotify,
		OrderID: "ord-123", ProductTitle: "AquaPure filter, 3-pack", Price: "24.90", Currency: "EUR", Quantity: 1,
		CancelBy:       time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC),
		CancelURL:      "https://replenish.example/orders/ord-123/cancel",
		Tracking:       "DHL 00340434161234567890",
		Reason:         "The product is no longer available.",
		SettingsURL:    "https://replenish.example/settings/notifications",
		NotificationID: "ntf-42",
		At:             time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC),
	}
	if typ == replenish.FeedLowSupply && locale == "de-DE" {
		n.Mode, n.OrderAt, n.RunOutDate = replenish.ModeAuto, &orderAt, &runOut
	}
	return n
}

var types = []string{replenish.FeedLowSupply, replenish.FeedOrderPlaced, replenish.FeedOrderShipped,
	replenish.FeedOrderDelivered, replenish.FeedOrderCancelled, replenish.FeedNotReporting}

// TestRender renders every type in English and German: the subject, and
// what to do next in both parts. The whole messages are golden files.
func TestRender(t *testing.T) {
	cases := []struct {
		typ, locale, subject string
		want                 []string // in the text and in the HTML
	}{
		{replenish.FeedLowSupply, "en-GB", "Water filter on Kitchen purifier is running low",
			[]string{"Hello Anna,", "Left", "6%", "turn on smart reorder", "Kitchen purifier"}},
		{replenish.FeedLowSupply, "de-DE", "Water filter in Kitchen purifier geht zur Neige",
			[]string{"Hallo Anna,", "Übrig", "6%", "Leer etwa am", "14. März 2026", "Smart Reorder bestellt Nachschub am 10. März 2026, 09:30 CET"}},
		{replenish.FeedOrderPlaced, "en-US", "Order placed: AquaPure filter, 3-pack",
			[]string{"AquaPure filter, 3-pack", "24.90 EUR", "Quantity", "cancel until 10 March 2026, 10:30 CET",
				"Cancel the order", "https://replenish.example/orders/ord-123/cancel"}},
		{replenish.FeedOrderPlaced, "de-DE", "Bestellung aufgegeben: AquaPure filter, 3-pack",
			[]string{"24,90 EUR", "Menge", "bis 10. März 2026, 10:30 CET stornieren", "Bestellung stornieren",
				"https://replenish.example/orders/ord-123/cancel"}},
		{replenish.FeedOrderShipped, "en", "On its way: AquaPure filter, 3-pack",
			[]string{"has shipped", "Tracking", "DHL 00340434161234567890"}},
		{replenish.FeedOrderShipped, "de", "Unterwegs: AquaPure filter, 3-pack",
			[]string{"wurde verschickt", "Sendungsverfolgung", "DHL 00340434161234567890"}},
		{replenish.FeedOrderDelivered, "en", "Delivered: AquaPure filter, 3-pack",
			[]string{"has been delivered", "reports its level by itself"}},
		{replenish.FeedOrderDelivered, "de", "Zugestellt: AquaPure filter, 3-pack",
			[]string{"wurde zugestellt", "von selbst"}},
		{replenish.FeedOrderCancelled, "en", "Order cancelled: AquaPure filter, 3-pack",
			[]string{"was cancelled", "Why", "The product is no longer available.", "order again"}},
		{replenish.FeedOrderCancelled, "de_AT", "Bestellung storniert: AquaPure filter, 3-pack",
			[]string{"wurde storniert", "Grund", "The product is no longer available.", "erneut bestellen"}},
		{replenish.FeedNotReporting, "en", "Kitchen purifier has stopped reporting",
			[]string{"haven't heard from Kitchen purifier", "switched on and connected"}},
		{replenish.FeedNotReporting, "de-CH", "Kitchen purifier meldet sich nicht mehr",
			[]string{"nichts von Kitchen purifier gehört", "eingeschaltet"}},
	}
	for _, c := range cases {
		t.Run(c.typ+"/"+c.locale, func(t *testing.T) {
			m, err := Render(notice(c.typ, c.locale))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != c.subject {
				t.Errorf("subject %q, want %q", m.Subject, c.subject)
			}
			if m.To != "anna@example.com" || m.MessageID != "<ntf-42@replenish>" ||
				m.ListUnsubscribe != "<https://replenish.example/settings/notifications>" {
				t.Errorf("headers: %+v", m)
			}
			for _, w := range c.want {
				if !strings.Contains(m.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, m.Text)
				}
				if !strings.Contains(m.HTML, escapeText(w)) {
					t.Errorf("HTML lacks %q:\n%s", w, m.HTML)
				}
			}
			for _, part := range []string{m.Text, m.HTML} {
				if !strings.Contains(part, "https://replenish.example/settings/notifications") {
					t.Errorf("no settings link in\n%s", part)
				}
				if c.typ != replenish.FeedNotReporting && !strings.Contains(part, "Water filter") {
					t.Errorf("no slot name in\n%s", part)
				}
			}
			if !strings.Contains(m.HTML, `<img src="https://replenish.example/images/acme/purifier-2" alt="Kitchen purifier"`) {
				t.Errorf("no device image in\n%s", m.HTML)
			}
			name := strings.ToLower(c.typ) + "." + language(c.locale)
			golden(t, name+".txt", m.Text)
			golden(t, name+".html", m.HTML)
		})
	}
}

// escapeText is how html/template writes the characters the cases use.
func escapeText(s string) string {
	return strings.NewReplacer("'", "&#39;", "&", "&amp;").Replace(s)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mail -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./mail -update rewrites it); got:\n%s", path, got)
	}
}

// TestRenderLowSupplyModes says what to do next in each mode.
func TestRenderLowSupplyModes(t *testing.T) {
	at := time.Date(2026, 3, 10, 8, 30, 0, 0, time.UTC)
	cases := []struct {
		mode    string
		orderAt *time.Time
		held    bool
		want    string
	}{
		{replenish.ModeNotify, nil, false, "Order a refill when it suits you, or turn on smart reorder"},
		{replenish.ModeAuto, nil, false, "Smart reorder will order a refill for you."},
		{replenish.ModeAuto, &at, false, "Smart reorder will order a refill on 10 March 2026, 08:30 UTC."},
		{replenish.ModeAuto, &at, true, "Smart reorder could not order this time."},
		{replenish.ModeOff, nil, false, "Order a refill when it suits you."},
	}
	for _, c := range cases {
		n := notice(replenish.FeedLowSupply, "en")
		n.TimeZone, n.Mode, n.OrderAt, n.Held = "", c.mode, c.orderAt, c.held
		m, err := Render(n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, c.want) {
			t.Errorf("%s (held %v): text lacks %q:\n%s", c.mode, c.held, c.want, m.Text)
		}
		if strings.Contains(m.Text, "Runs out") {
			t.Errorf("%s: a run-out date without a forecast:\n%s", c.mode, m.Text)
		}
	}
}

// TestRenderFallback falls back from a locale without a table to English,
// and from a region to its language.
func TestRenderFallback(t *testing.T) {
	for locale, lang := range map[string]string{"ja-JP": "en", "": "en", "de-AT": "de", "DE": "de", "de_DE": "de", "fr": "en", "en-US": "en"} {
		m, err := Render(notice(replenish.FeedOrderShipped, locale))
		if err != nil {
			t.Fatal(err)
		}
		if m.Language != lang {
			t.Errorf("locale %q rendered in %q, want %q", locale, m.Language, lang)
		}
		if lang == "en" && !strings.HasPrefix(m.Text, "Hello Anna,") {
			t.Errorf("locale %q: not English:\n%s", locale, m.Text)
		}
	}
}

// TestRenderEscapes shows a vendor's or customer's markup as text in the
// HTML part, and keeps a subject on one line.
func TestRenderEscapes(t *testing.T) {
	n := notice(replenish.FeedLowSupply, "en")
	n.DeviceName = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	n.SlotName = "Filter\r\nBcc: victim@example.com"
	n.Name = `Anna <b>&</b>`
	n.ImageURL = ""
	m, err := Render(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<img src=x", "<b>"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML holds %q unescaped:\n%s", bad, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || !strings.Contains(m.HTML, "Anna &lt;b&gt;&amp;&lt;/b&gt;") {
		t.Errorf("names not shown escaped:\n%s", m.HTML)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject spans lines: %q", m.Subject)
	}
	if strings.Contains(m.HTML, "<img") {
		t.Errorf("an image without ImageURL:\n%s", m.HTML)
	}
	n.ImageURL = "javascript:alert(1)"
	if _, err := Render(n); err == nil {
		t.Error("a javascript: image URL was accepted")
	}
}

// TestRenderRefuses refuses notices that cannot make a proper message.
func TestRenderRefuses(t *testing.T) {
	cases := map[string]func(*Notice){
		"unknown type":      func(n *Notice) { n.Type = "BIRTHDAY" },
		"no address":        func(n *Notice) { n.To = "" },
		"bad address":       func(n *Notice) { n.To = "anna at example" },
		"no notification":   func(n *Notice) { n.NotificationID = "" },
		"id with @":         func(n *Notice) { n.NotificationID = "a@b" },
		"relative settings": func(n *Notice) { n.SettingsURL = "/settings" },
		"relative cancel":   func(n *Notice) { n.CancelURL = "/cancel" },
	}
	for name, change := range cases {
		n := notice(replenish.FeedOrderPlaced, "en")
		change(&n)
		if _, err := Render(n); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	n := notice("BIRTHDAY", "en")
	if _, err := Render(n); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v, want ErrUnknownType", err)
	}
}
