package web_test

import (
	"bytes"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"replenish"
	"replenish/mail"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage"
)

// smtpServer is a real SMTP server on a free port that keeps what it
// accepts, and refuses the recipients in refuse with a 550.
type smtpServer struct {
	addr   string
	mu     sync.Mutex
	got    [][]byte
	refuse map[string]bool
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	s := &smtpServer{refuse: map[string]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	srv.Domain, srv.ErrorLog = "localhost", log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return s
}

func (s *smtpServer) messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

type smtpSession struct {
	s  *smtpServer
	to string
}

func (ss *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.refuse[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	ss.to = to
	return nil
}
func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, b)
	ss.s.mu.Unlock()
	return err
}
func (ss *smtpSession) Reset()        {}
func (ss *smtpSession) Logout() error { return nil }

// parts reads a message's headers and its text and HTML parts.
func parts(t *testing.T, raw []byte) (*netmail.Message, string, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text, html string
	var walk func(io.Reader, string)
	walk = func(r io.Reader, contentType string) {
		mt, params, _ := mime.ParseMediaType(contentType)
		if !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			pt := p.Header.Get("Content-Type")
			body, _ := io.ReadAll(p)
			if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
				body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
			}
			switch {
			case strings.HasPrefix(pt, "text/plain"):
				text = string(body)
			case strings.HasPrefix(pt, "text/html"):
				html = string(body)
			case strings.HasPrefix(pt, "multipart/"):
				walk(bytes.NewReader(body), pt)
			}
		}
	}
	walk(m.Body, m.Header.Get("Content-Type"))
	return m, text, html
}

// TestEmailDelivery: customer e-mail leaves through the outbox over a
// real SMTP conversation, once, with its text and HTML parts, and a
// refused recipient fails with the server's reason.
func TestEmailDelivery(t *testing.T) {
	srv := startSMTP(t)
	w := gwLinked(t)
	e := w.e
	smtpc, err := mail.NewSMTP(mail.Config{Addr: srv.addr, From: "Replenish <noreply@replenish.example>", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	e.Notifications.SendMailWith(smtpc)
	w.lowEpisode(t, "6")
	deliver(t, e)
	deliver(t, e)
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want one LOW_SUPPLY e-mail", len(got))
	}
	m, text, html := parts(t, got[0])
	var list struct{ Items []notifications.Delivery }
	e.must(http.StatusOK, "GET", "/api/v1/notifications?channel=email", e.OperatorKey, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Status != storage.NotificationDelivered {
		t.Fatalf("the outbox: %+v", list.Items)
	}
	id := list.Items[0].NotificationID
	to, _ := netmail.ParseAddress(m.Header.Get("To"))
	if !strings.Contains(m.Header.Get("Message-Id"), id) || to == nil || !strings.HasPrefix(to.Address, "gw.") ||
		!strings.Contains(m.Header.Get("List-Unsubscribe"), notifications.SettingsPath) {
		t.Fatalf("headers: %v", m.Header)
	}
	for _, part := range []string{text, html} {
		if !strings.Contains(part, "Black ink") || !strings.Contains(part, "6%") {
			t.Fatalf("a part does not say which supply is low and what is left:\n%s", part)
		}
	}

	// A recipient the server refuses: failed for good, with its reason.
	srv.mu.Lock()
	srv.refuse[to.Address] = true
	srv.mu.Unlock()
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "5")
	deliver(t, e)
	e.must(http.StatusOK, "GET", "/api/v1/notifications?channel=email&status=FAILED", e.OperatorKey, nil, &list)
	if len(list.Items) != 1 || !strings.Contains(list.Items[0].LastError, "550") || list.Items[0].Attempts != 1 {
		t.Fatalf("a refused recipient: %+v", list.Items)
	}
	// Without an SMTP server, e-mails are kept for the operator.
	e.Notifications.SendMailWith(nil)
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "4")
	e.must(http.StatusOK, "GET", "/api/v1/notifications?channel=email&status=KEPT", e.OperatorKey, nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("kept e-mails: %+v", list.Items)
	}
	e.refused(http.StatusConflict, replenish.EConflict, "", "POST", "/api/v1/notifications/"+list.Items[0].NotificationID+"/redeliver", e.OperatorKey, nil)
}

// TestCustomerEveryType: each customer notification type reaches the feed,
// the customer's webhook and e-mail, once each.
func TestCustomerEveryType(t *testing.T) {
	srv := startSMTP(t)
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Minute })
	e := w.e
	smtpc, err := mail.NewSMTP(mail.Config{Addr: srv.addr, From: "noreply@replenish.example", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	e.Notifications.SendMailWith(smtpc)
	rc := newReceiver(t, e.clock.Now)
	var set notifications.SettingsView
	e.must(http.StatusOK, "PUT", "/api/v1/notification-settings", w.c.APIKey, map[string]any{"webhookUrl": rc.URL}, &set)
	rc.secret = set.WebhookSecret

	// A spare at home: LOW_SUPPLY; none left: an order, shipped, delivered.
	e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/household-inventory", w.c.APIKey,
		map[string]any{"quantity": 1, "reason": "one in the drawer"}, nil)
	w.lowEpisode(t, "6")
	e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/household-inventory", w.c.APIKey,
		map[string]any{"quantity": 0, "reason": "it was empty"}, nil)
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("5"))
	id := w.onlyOrder(t).OrderID
	e.clock.Advance(time.Minute)
	w.tick(t)
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/ship", e.OperatorKey, nil, nil)
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/deliver", e.OperatorKey, nil, nil)
	// The spare goes in; the next episode's order is cancelled.
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "5")
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+w.orders(t)[0].OrderID+"/cancel", w.c.APIKey, nil, nil)
	e.clock.Advance(73 * time.Hour)
	if _, err := e.Notifications.CheckSilent(t.Context(), 72*time.Hour); err != nil {
		t.Fatal(err)
	}
	deliver(t, e)
	deliver(t, e)

	want := []string{replenish.FeedLowSupply, replenish.FeedOrderPlaced, replenish.FeedOrderShipped,
		replenish.FeedOrderDelivered, replenish.FeedOrderPlaced, replenish.FeedOrderCancelled, replenish.FeedNotReporting}
	var feed []string
	for _, f := range w.feed(t) {
		feed = append([]string{f.Type}, feed...)
	}
	if !slices.Equal(feed, want) {
		t.Fatalf("feed %v, want %v", feed, want)
	}
	if got := rc.kept(); !slices.Equal(got, want) {
		t.Fatalf("webhook %v, want %v", got, want)
	}
	var mails []string
	for _, raw := range srv.messages() {
		m, _, _ := parts(t, raw)
		mails = append(mails, m.Header.Get("Subject"))
	}
	var list struct{ Items []notifications.Delivery }
	e.must(http.StatusOK, "GET", "/api/v1/notifications?channel=email", e.OperatorKey, nil, &list)
	var types []string
	for _, d := range list.Items {
		types = append([]string{d.Type}, types...)
		if d.Status != storage.NotificationDelivered || d.Attempts != 1 {
			t.Errorf("e-mail %s: %s after %d attempts", d.Type, d.Status, d.Attempts)
		}
	}
	// Entries of the same instant list in no particular order.
	slices.Sort(types)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(types, sorted) || len(mails) != len(want) {
		t.Fatalf("e-mails %v (%d on the wire: %v), want %v", types, len(mails), mails, want)
	}
}
