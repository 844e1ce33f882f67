package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"replenish"
	"replenish/mail"
	"replenish/notifications"
	"replenish/storage"
	"replenish/users"
	"replenish/web/browsertest"
)

// keptEmail is ordWorld with the console's users and one customer e-mail:
// a low supply in NOTIFY mode, kept since the tests configure no SMTP
// server. It returns the e-mail as the operator's API lists it.
func keptEmail(t *testing.T) (*gwWorld, notifications.Delivery, mail.Message) {
	t.Helper()
	w := ordWorld(t, nil)
	consoleUsers(t, w.e)
	w.subscribe(t, map[string]string{"mode": "NOTIFY"})
	w.lowEpisode(t, "6")
	var list struct{ Items []notifications.Delivery }
	w.e.must(http.StatusOK, "GET", "/api/v1/notifications?channel=email", w.e.OperatorKey, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Status != storage.NotificationKept || list.Items[0].Type != replenish.FeedLowSupply {
		t.Fatalf("e-mails after a low supply: %+v, want one kept LOW_SUPPLY", list.Items)
	}
	var m mail.Message
	if err := json.Unmarshal(list.Items[0].Body, &m); err != nil || m.Subject == "" || m.Text == "" || !strings.Contains(m.HTML, "<table") {
		t.Fatalf("the kept e-mail's body: %v\n%s", err, list.Items[0].Body)
	}
	return w, list.Items[0], m
}

// section returns the card with id on a page, "" when the page lacks it.
func section(body, class, id string) string {
	_, after, ok := strings.Cut(body, `<section class="`+class+`" id="`+id+`">`)
	if !ok {
		return ""
	}
	c, _, _ := strings.Cut(after, "</section>")
	return c
}

// TestConsoleEmailsPage: the operator reads a kept e-mail, subject, text
// and the HTML part in a sandboxed frame, by status; vendors and
// customers cannot.
func TestConsoleEmailsPage(t *testing.T) {
	w, d, m := keptEmail(t)
	e := w.e
	list := e.URL + "/console/operator/emails"

	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	resp, body := get(t, c, list)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<a href="/console/operator/emails">E-mails</a>`) {
		t.Fatalf("e-mails page: %d, want 200 with the E-mails link in the navigation\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "default-src 'self'; img-src 'self' data:; style-src-attr 'unsafe-inline'; frame-ancestors 'none'" {
		t.Fatalf("the e-mails page's policy: %q", csp)
	}
	if !strings.Contains(body, "No SMTP server is configured, so no e-mail is sent.") || !strings.Contains(body, "<code>--smtp-addr host:port</code>") {
		t.Fatalf("the page does not say why e-mails are kept, nor how to send them\n%s", body)
	}
	kept := section(body, "card notification email", d.NotificationID)
	for _, want := range []string{`<span class="subject">` + html.EscapeString(m.Subject) + `</span>`, `<span class="badge KEPT">KEPT</span>`,
		`<dd class="to">` + d.Target + `</dd>`, "<code>" + replenish.FeedLowSupply + "</code>", "<dt>Attempts</dt><dd>0</dd>",
		w.c.CustomerID, `<pre class="mail-text">` + html.EscapeString(m.Text) + `</pre>`,
		`<details class="html-preview"><summary>`} {
		if !strings.Contains(kept, want) {
			t.Fatalf("the kept e-mail's card lacks %q:\n%s", want, kept)
		}
	}
	// The HTML part is an escaped srcdoc of a sandboxed frame that allows
	// nothing: no markup of the message reaches the page itself.
	_, doc, ok := strings.Cut(kept, `<iframe sandbox srcdoc="`)
	doc, _, _ = strings.Cut(doc, `"`)
	if !ok || strings.ContainsAny(doc, "<>") || html.UnescapeString(doc) != m.HTML {
		t.Fatalf("the HTML part is not the escaped srcdoc of a sandboxed frame:\n%s", kept)
	}
	if strings.Count(body, "<table") != 0 {
		t.Fatalf("the message's markup is on the page itself")
	}

	// Tabs: kept has it, delivered not; an unknown status is refused.
	if _, body := get(t, c, list+"?status=KEPT"); section(body, "card notification email", d.NotificationID) == "" {
		t.Fatalf("the Kept tab lacks the e-mail\n%s", body)
	}
	if _, body := get(t, c, list+"?status=delivered"); section(body, "card notification email", d.NotificationID) != "" ||
		!strings.Contains(body, `<p class="muted" id="emails-empty">No DELIVERED e-mails.</p>`) {
		t.Fatalf("the Delivered tab has the kept e-mail\n%s", body)
	}
	if resp, _ := get(t, c, list+"?status=LOST"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown status: %d, want 400", resp.StatusCode)
	}

	// Signed out, to sign-in; a customer's key does not sign in; a vendor
	// user may not open the page, and its own page has no e-mails.
	resp, _ = get(t, pageClient(t), list)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in?next=%2Fconsole%2Foperator%2Femails" {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", list, nil)
	req.Header.Set("Authorization", "Bearer "+w.c.APIKey)
	if resp, body := send(t, pageClient(t), req); resp.StatusCode != http.StatusSeeOther || strings.Contains(body, m.Subject) {
		t.Fatalf("with a customer's key: %d, want 303 to sign-in", resp.StatusCode)
	}
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "GET", "/api/v1/notifications?channel=email", w.c.APIKey, nil)
	vc := pageClient(t)
	post(t, vc, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	if resp, body := get(t, vc, list); resp.StatusCode != http.StatusForbidden || strings.Contains(body, m.Subject) || strings.Contains(body, d.NotificationID) {
		t.Fatalf("a vendor on the e-mails page: %d, want 403 without the e-mail", resp.StatusCode)
	}
	if resp, body := get(t, vc, e.URL+"/console/notifications"); resp.StatusCode != http.StatusOK || strings.Contains(body, d.NotificationID) {
		t.Fatalf("a vendor's notifications page: %d, with the customer's e-mail on it", resp.StatusCode)
	}
}

// TestConsoleNotificationsPage: a vendor reads its webhook deliveries,
// sends one again with the same ID, and is told when it has no webhook
// URL; another vendor sees and resends none of them.
func TestConsoleNotificationsPage(t *testing.T) {
	w := ordWorld(t, nil)
	e := w.e
	consoleUsers(t, e) // the operator, and the vendor inkco: another vendor
	const devEmail, devPassword = "dev@printers.example", "the printer vendor's password"
	if _, err := e.Server.Users.Create(t.Context(), users.NewUser{Email: devEmail, Password: devPassword,
		Role: replenish.RoleVendor, VendorCode: w.v.VendorCode}); err != nil {
		t.Fatal(err)
	}
	list := e.URL + "/console/notifications"
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(devEmail, devPassword))

	// Without a webhook URL, nothing is sent: the page says where to set one.
	resp, body := get(t, c, list)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<a href="/console/notifications">Notifications</a>`) ||
		!strings.Contains(body, `id="no-webhook"`) || !strings.Contains(body, `<a href="/console/settings">Settings</a>`) ||
		!strings.Contains(body, `id="notifications-empty"`) {
		t.Fatalf("notifications page without a webhook: %d\n%s", resp.StatusCode, body)
	}

	// One delivered, one refused for good.
	rc := vendorHook(t, w)
	w.subscribe(t, map[string]string{"mode": "NOTIFY"})
	deliver(t, e)
	rc.answers = []int{http.StatusGone}
	e.clock.Advance(time.Minute) // newest first: the failed one
	w.subscribe(t, map[string]string{"mode": "OFF"})
	deliver(t, e)
	// deliveries lists them afresh: decoding into a list reused would
	// keep the fields an answer leaves out.
	deliveries := func() []notifications.Delivery {
		t.Helper()
		var ds struct{ Items []notifications.Delivery }
		e.must(http.StatusOK, "GET", "/api/v1/notifications", w.v.APIKey, nil, &ds)
		return ds.Items
	}
	ds := deliveries()
	if len(ds) != 2 || ds[0].Status != storage.NotificationFailed || ds[1].Status != storage.NotificationDelivered {
		t.Fatalf("deliveries: %+v, want one failed and one delivered", ds)
	}
	failed, delivered := ds[0], ds[1]

	_, body = get(t, c, list)
	if strings.Contains(body, `id="no-webhook"`) {
		t.Fatalf("the page says there is no webhook URL after one was set")
	}
	fc := section(body, "card notification webhook", failed.NotificationID)
	for _, want := range []string{"<code>" + notifications.SubscriptionChanged + "</code>", `<span class="badge FAILED">FAILED</span>`,
		"<dt>Attempts</dt><dd>1</dd>", `<p class="last-error">Last error: `, "410", `<dd class="target"><code>` + rc.URL + `</code></dd>`,
		`<details class="body"><summary>The JSON body</summary><pre>{`, html.EscapeString(`"notificationId": "` + failed.NotificationID + `"`),
		html.EscapeString(`"mode": "OFF"`),
		`<form method="post" action="/console/notifications/` + failed.NotificationID + `/redeliver?status=ALL"`, "Send again</button>"} {
		if !strings.Contains(fc, want) {
			t.Fatalf("the failed delivery's card lacks %q:\n%s", want, fc)
		}
	}
	dc := section(body, "card notification webhook", delivered.NotificationID)
	if !strings.Contains(dc, `<span class="badge DELIVERED">DELIVERED</span>`) || !strings.Contains(dc, "<dt>Delivered</dt><dd>") ||
		strings.Contains(dc, "last-error") {
		t.Fatalf("the delivered one's card:\n%s", dc)
	}
	if _, body := get(t, c, list+"?status=FAILED"); section(body, "card notification webhook", delivered.NotificationID) != "" ||
		section(body, "card notification webhook", failed.NotificationID) == "" {
		t.Fatalf("the Failed tab:\n%s", body)
	}

	// A form from another site is refused before anything happens.
	path := list + "/" + failed.NotificationID + "/redeliver?status=FAILED"
	if resp, _ := post(t, c, path, nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site Send again: %d, want 403", resp.StatusCode)
	}
	// Another vendor sees none of them and cannot send them again.
	vc := pageClient(t)
	post(t, vc, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	if resp, body := get(t, vc, list); resp.StatusCode != http.StatusOK || strings.Contains(body, failed.NotificationID) ||
		strings.Contains(body, delivered.NotificationID) || !strings.Contains(body, `id="no-webhook"`) {
		t.Fatalf("another vendor's page: %d, with the deliveries on it or no note on its missing webhook", resp.StatusCode)
	}
	if resp, _ := post(t, vc, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another vendor's Send again: %d, want 404", resp.StatusCode)
	}
	ds = deliveries()
	if ds[0].Status != storage.NotificationFailed {
		t.Fatalf("refused forms queued the delivery: %+v", ds[0])
	}

	// Send again: queued with the same ID, back to the same list with a
	// notice; the worker sends it and the receiver takes it.
	resp, _ = post(t, c, path, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console/notifications?done=redelivered&status=FAILED" {
		t.Fatalf("Send again: %d to %q", resp.StatusCode, loc)
	}
	_, body = get(t, c, e.URL+resp.Header.Get("Location"))
	if !strings.Contains(body, "Queued to be sent again, with the same notification ID.") || strings.Contains(body, failed.NotificationID) {
		t.Fatalf("after Send again, no notice or the Failed tab still has it\n%s", body)
	}
	ds = deliveries()
	if again := ds[0]; len(ds) != 2 || again.NotificationID != failed.NotificationID || again.Status != storage.NotificationPending || again.LastError != "" {
		t.Fatalf("after Send again: %+v, want the same notification PENDING", ds)
	}
	_, body = get(t, c, list+"?status=PENDING")
	if pc := section(body, "card notification webhook", failed.NotificationID); !strings.Contains(pc, `<span class="badge PENDING">PENDING</span>`) ||
		!strings.Contains(pc, "<dt>Next attempt</dt>") {
		t.Fatalf("the Pending tab:\n%s", body)
	}
	deliver(t, e)
	ds = deliveries()
	if ds[0].Status != storage.NotificationDelivered || len(rc.kept()) != 2 {
		t.Fatalf("after sending again: %+v; the receiver kept %v", ds[0], rc.kept())
	}

	// The operator sees every vendor's, and filters by vendor.
	oc := pageClient(t)
	post(t, oc, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	if _, body := get(t, oc, list+"?"+url.Values{"vendor": {w.v.VendorCode}}.Encode()); section(body, "card notification webhook", failed.NotificationID) == "" ||
		!strings.Contains(body, "<dt>Vendor</dt><dd>"+w.v.VendorCode+"</dd>") || strings.Contains(body, `id="no-webhook"`) {
		t.Fatalf("the operator's view of the vendor's deliveries:\n%s", body)
	}
	if _, body := get(t, oc, list+"?vendor=inkco"); !strings.Contains(body, `id="notifications-empty"`) {
		t.Fatalf("the operator's view of inkco's deliveries:\n%s", body)
	}
}

// TestConsolePagesEmails: in a real browser at a phone's size, the
// operator opens the e-mails page from the navigation, reads the kept
// e-mail and unfolds its HTML part, shown in a frame that runs nothing.
func TestConsolePagesEmails(t *testing.T) {
	w, d, m := keptEmail(t)
	b := browsertest.New(t)
	signIn(t, b, w.e.URL, opEmail, opPassword)
	submit(t, b, `header nav a[href="/console/operator/emails"]`)
	card := `[id="` + d.NotificationID + `"]` // an ID may start with a digit
	b.WaitFor(card)
	if got := b.Text(card + " .subject"); got != m.Subject {
		t.Fatalf("the e-mail's subject shows %q, want %q", got, m.Subject)
	}
	if got := b.Text(card + " h2 .badge"); got != storage.NotificationKept {
		t.Fatalf("the e-mail shows %q, want KEPT", got)
	}
	if got := b.Text(card + " .mail-text"); got != m.Text {
		t.Fatalf("the text part shows %q, want %q", got, m.Text)
	}
	b.Shot("operator-emails-kept")

	b.Click(card+" details.html-preview summary", card+" details.html-preview iframe")
	var frame struct {
		Sandbox bool
		Tokens  int
		SrcDoc  string
	}
	b.Do(chromedp.ScrollIntoView(chromedp.CSS(card + " iframe")))
	raw, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](fmt.Sprintf(`(f => JSON.stringify({sandbox: f.hasAttribute("sandbox"),
		tokens: f.sandbox.length, srcDoc: f.srcdoc}))(document.querySelector(%q))`, card+" iframe")))
	if err == nil {
		err = json.Unmarshal([]byte(raw), &frame)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !frame.Sandbox || frame.Tokens != 0 || frame.SrcDoc != m.HTML {
		t.Fatalf("the HTML part's frame: sandbox %v with %d allowances, the message's HTML %v", frame.Sandbox, frame.Tokens, frame.SrcDoc == m.HTML)
	}
	// No script reaches into a frame that runs none, to tell when it
	// has painted: give it a moment before the screenshot, which shows
	// the message styled by its style attributes (the page's policy
	// allows them for these frames).
	b.Do(chromedp.Sleep(time.Second))
	b.Shot("operator-emails-html")
}
