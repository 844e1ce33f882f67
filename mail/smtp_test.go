package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"replenish"
)

// server is a real SMTP server for one test: STARTTLS or implicit TLS with
// a self-signed certificate, AUTH PLAIN, and recipients it refuses.
type server struct {
	addr  string
	roots *x509.CertPool

	mu  sync.Mutex
	got []delivery
}

// delivery is one message the server accepted.
type delivery struct {
	From string
	To   []string
	Data []byte
}

type serverOptions struct {
	tls        string           // STARTTLS, TLS or NoTLS
	user, pass string           // AUTH PLAIN is required when user is set
	refuse     map[string]error // RCPT TO answers for these addresses
}

func startServer(t *testing.T, o serverOptions) *server {
	t.Helper()
	cert, roots := selfSigned(t)
	s := &server{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &testConversation{s: s, o: o}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch o.tls {
	case STARTTLS:
		srv.TLSConfig = tc
	case TLS:
		ln = tls.NewListener(ln, tc)
	}
	s.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return s
}

func (s *server) received() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.got...)
}

type testConversation struct {
	s      *server
	o      serverOptions
	authed bool
	from   string
	to     []string
}

func (ts *testConversation) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ts *testConversation) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ts.o.user || pass != ts.o.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		ts.authed = true
		return nil
	}), nil
}

func (ts *testConversation) Mail(from string, _ *smtp.MailOptions) error {
	if ts.o.user != "" && !ts.authed {
		return smtp.ErrAuthRequired
	}
	ts.from = from
	return nil
}

func (ts *testConversation) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ts.o.refuse[to]; err != nil {
		return err
	}
	ts.to = append(ts.to, to)
	return nil
}

func (ts *testConversation) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ts.o.refuse["DATA "+ts.to[0]]; err != nil {
		return err
	}
	ts.s.mu.Lock()
	ts.s.got = append(ts.s.got, delivery{From: ts.from, To: ts.to, Data: b})
	ts.s.mu.Unlock()
	return nil
}

func (ts *testConversation) Reset()        { ts.from, ts.to = "", nil }
func (ts *testConversation) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test SMTP server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

func rendered(t *testing.T) Message {
	t.Helper()
	n := notice(replenish.FeedOrderPlaced, "de-DE")
	n.Quantity = 2 // a "×" in the subject: a header that needs encoding
	m, err := Render(n)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendTLS sends over STARTTLS and over implicit TLS with AUTH PLAIN,
// and reads what the server received as a mail reader would.
func TestSendTLS(t *testing.T) {
	for _, mode := range []string{STARTTLS, TLS} {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, serverOptions{tls: mode, user: "replenish", pass: "s3cret"})
			s, err := NewSMTP(Config{Addr: srv.addr, Username: "replenish", Password: "s3cret",
				From: "Replenish <noreply@replenish.example>", TLS: mode, TLSConfig: &tls.Config{RootCAs: srv.roots}})
			if err != nil {
				t.Fatal(err)
			}
			m := rendered(t)
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("%d messages received", len(got))
			}
			if got[0].From != "noreply@replenish.example" || len(got[0].To) != 1 || got[0].To[0] != "anna@example.com" {
				t.Errorf("envelope from %q to %v", got[0].From, got[0].To)
			}
			checkMessage(t, got[0].Data, m)
		})
	}
}

// checkMessage parses data with the standard library and compares it with m.
func checkMessage(t *testing.T, data []byte, m Message) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "noreply@replenish.example" || from[0].Name != "Replenish" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "anna@example.com" {
		t.Errorf("To %q: %v", h.Get("To"), err)
	}
	for name, want := range map[string]string{
		"Subject":          m.Subject,
		"List-Unsubscribe": "<https://replenish.example/settings/notifications>",
		"Message-Id":       "<ntf-42@replenish>",
		"Content-Language": "de",
		"Auto-Submitted":   "auto-generated",
	} {
		got := h.Get(name)
		if name == "Subject" {
			got = subject
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if date, err := h.Date(); err != nil || !date.Equal(m.Date) {
		t.Errorf("Date %q (%v), want %v", h.Get("Date"), err, m.Date)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("%s charset %q", pt, pp["charset"])
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		parts[pt] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if parts["text/plain"] != m.Text {
		t.Errorf("text part:\n%s\nwant:\n%s", parts["text/plain"], m.Text)
	}
	if parts["text/html"] != m.HTML {
		t.Errorf("HTML part:\n%s\nwant:\n%s", parts["text/html"], m.HTML)
	}
	if len(parts) != 2 {
		t.Errorf("parts %v, want text/plain and text/html", len(parts))
	}
}

// TestSendFailures tells failures a retry cannot cure from those it can.
func TestSendFailures(t *testing.T) {
	refused := map[string]error{
		"anna@example.com":     &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"},
		"bob@example.com":      &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"},
		"DATA dan@example.com": &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "message refused"},
		"DATA eve@example.com": &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"},
	}
	srv := startServer(t, serverOptions{tls: STARTTLS, user: "replenish", pass: "s3cret", refuse: refused})
	ok := Config{Addr: srv.addr, Username: "replenish", Password: "s3cret", From: "noreply@replenish.example",
		TLSConfig: &tls.Config{RootCAs: srv.roots}}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	cases := []struct {
		name      string
		change    func(*Config, *Message)
		permanent bool
	}{
		{"recipient refused with 550", func(*Config, *Message) {}, true},
		{"recipient refused with 450", func(_ *Config, m *Message) { m.To = "bob@example.com" }, false},
		{"message refused with 554", func(_ *Config, m *Message) { m.To = "dan@example.com" }, true},
		{"message deferred with 451", func(_ *Config, m *Message) { m.To = "eve@example.com" }, false},
		{"server down", func(c *Config, _ *Message) { c.Addr = closedAddr }, false},
		// The password is ours to fix, not the message's: the message
		// goes once it is fixed, so it stays in the outbox.
		{"wrong password", func(c *Config, m *Message) { c.Password = "wrong"; m.To = "carl@example.com" }, false},
		{"certificate not trusted", func(c *Config, m *Message) { c.TLSConfig = nil; m.To = "carl@example.com" }, false},
		{"no STARTTLS offered", func(c *Config, m *Message) {
			c.Addr = startServer(t, serverOptions{tls: NoTLS}).addr
			c.Username, c.Password, m.To = "", "", "carl@example.com"
		}, false},
		{"malformed message", func(_ *Config, m *Message) { m.Subject = "" }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, m := ok, rendered(t)
			c.change(&cfg, &m)
			s, err := NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), m)
			if err == nil {
				t.Fatal("sent")
			}
			t.Log(err)
			if errors.Is(err, ErrPermanent) != c.permanent {
				t.Errorf("permanent %v, want %v: %v", errors.Is(err, ErrPermanent), c.permanent, err)
			}
		})
	}
	if n := len(srv.received()); n != 0 {
		t.Errorf("%d messages received", n)
	}
}

// TestSendContext gives up when the context ends, even while a server
// that accepted the connection says nothing.
func TestSendContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	s, err := NewSMTP(Config{Addr: ln.Addr().String(), From: "noreply@replenish.example", TLS: NoTLS})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, rendered(t))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrPermanent) {
		t.Errorf("err %v, want a temporary deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if err := s.Send(ctx, rendered(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want canceled", err)
	}
}

// TestConfigValidate names the flag to fix.
func TestConfigValidate(t *testing.T) {
	good := Config{Addr: "smtp.example.com:587", Username: "u", Password: "p", From: "Replenish <noreply@example.com>"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Addr = "" }, "--smtp-addr"},
		{func(c *Config) { c.Addr = "smtp.example.com" }, "--smtp-addr"},
		{func(c *Config) { c.Addr = "smtp.example.com:0" }, "--smtp-addr"},
		{func(c *Config) { c.From = "" }, "--smtp-from"},
		{func(c *Config) { c.From = "not an address" }, "--smtp-from"},
		{func(c *Config) { c.TLS = "x" }, `--smtp-tls: "x" is not starttls, tls or none`},
		{func(c *Config) { c.TLS = NoTLS }, "--smtp-username"},
		{func(c *Config) { c.Password = "" }, "--smtp-password"},
	}
	for _, c := range cases {
		cfg := good
		c.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("%+v: NewSMTP accepted it", cfg)
		}
	}
	for _, mode := range []string{"", STARTTLS, TLS} {
		cfg := good
		cfg.TLS = mode
		if err := cfg.Validate(); err != nil {
			t.Errorf("TLS %q: %v", mode, err)
		}
	}
}
