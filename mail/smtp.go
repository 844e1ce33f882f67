package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of Config.TLS.
const (
	STARTTLS = "starttls" // plain connection upgraded with STARTTLS, required (port 587)
	TLS      = "tls"      // TLS from the first byte (port 465)
	NoTLS    = "none"     // no encryption, for a relay on the same host or network
)

// DefaultTimeout bounds one Send when the context has no sooner deadline.
const DefaultTimeout = 30 * time.Second

// ErrPermanent marks a send that retrying will not cure: the server refused
// the recipient or the message with a 5xx reply, or the message cannot be
// composed. Everything else (a server that is down or slow, a 4xx, a TLS or
// AUTH failure, a cancelled context) is temporary.
var ErrPermanent = errors.New("mail: permanent failure")

// Config is how to reach the SMTP server.
type Config struct {
	Addr     string // host:port
	Username string // for SMTP AUTH; empty: no AUTH
	Password string
	From     string // the From address, "Replenish <noreply@example.com>" or a bare address
	TLS      string // "starttls" (the default when empty), "tls" or "none"
	// TLSConfig, when set, is used for STARTTLS and TLS: a private CA in
	// its RootCAs, say. Its ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// Timeout bounds one Send, from connecting to the server's last reply;
	// DefaultTimeout when 0. A context deadline that comes sooner wins.
	Timeout time.Duration
}

// Validate says what is wrong with c, naming the flag to fix.
func (c Config) Validate() error {
	if c.Addr == "" {
		return errors.New("--smtp-addr: the SMTP server's host:port is required")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("--smtp-addr: %q is not host:port", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("--smtp-addr: %q has no port between 1 and 65535", c.Addr)
	}
	if c.From == "" {
		return errors.New("--smtp-from: the From address is required")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("--smtp-from: %q is not an e-mail address", c.From)
	}
	switch c.TLS {
	case "", STARTTLS, TLS:
	case NoTLS:
		if c.Username != "" {
			return errors.New("--smtp-username: with --smtp-tls none the password would cross the network in clear; use starttls or tls")
		}
	default:
		return fmt.Errorf("--smtp-tls: %q is not starttls, tls or none", c.TLS)
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("--smtp-username and --smtp-password: give both or neither")
	}
	if c.Timeout < 0 {
		return errors.New("smtp timeout: 0 (the default) or a positive duration")
	}
	return nil
}

// SMTP sends messages, one connection per message. It keeps no connection
// open between messages and is safe for concurrent use.
type SMTP struct {
	c    Config
	host string
	port int
	tls  *tls.Config
}

// NewSMTP checks c and returns a sender for it. It does not connect.
func NewSMTP(c Config) (*SMTP, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.TLS == "" {
		c.TLS = STARTTLS
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	p, _ := strconv.Atoi(port)
	tc := &tls.Config{}
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return &SMTP{c: c, host: host, port: p, tls: tc}, nil
}

// Send sends m. An error that retrying will not cure (the server refused
// the recipient or the message with a 5xx, or m is malformed) satisfies
// errors.Is(err, ErrPermanent); any other error is temporary.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.compose(m)
	if err != nil {
		return fmt.Errorf("%w: composing %s: %w", ErrPermanent, m.MessageID, err)
	}
	timeout := s.c.Timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		return fmt.Errorf("mail: sending %s: %w", m.MessageID, context.Cause(ctx))
	}

	// go-mail bounds each step by its timeout; closing the connection when
	// ctx ends stops a conversation that is under way as well.
	stops := make(chan func() bool, 2)
	defer func() {
		close(stops)
		for stop := range stops {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.c.TLS == TLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(dctx, network, addr)
		} else {
			conn, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		select {
		case stops <- context.AfterFunc(ctx, func() { conn.Close() }):
		default:
		}
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port), gomail.WithTimeout(timeout), gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tls),
	}
	switch s.c.TLS {
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLS:
		// The connection is TLS already; opportunistic finds no STARTTLS
		// to upgrade with and records the connection as encrypted.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.c.Username), gomail.WithPassword(s.c.Password))
	}
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: sending %s: %w", m.MessageID, err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		// The connection's deadline is the context's: the timeout that
		// ended the conversation is the context's, whose timer may lag.
		<-ctx.Done()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("mail: sending %s: %w: %w", m.MessageID, context.Cause(ctx), err)
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return fmt.Errorf("%w: sending %s: %w", ErrPermanent, m.MessageID, err)
	}
	return fmt.Errorf("mail: sending %s: %w", m.MessageID, err)
}

// compose turns a rendered message into go-mail's, with the headers a
// notification needs.
func (s *SMTP) compose(m Message) (*gomail.Msg, error) {
	switch {
	case m.To == "":
		return nil, errors.New("no recipient")
	case m.Subject == "":
		return nil, errors.New("no subject")
	case m.Text == "" || m.HTML == "":
		return nil, errors.New("no text or no HTML part")
	case m.MessageID == "" || strings.ContainsAny(m.MessageID, " \t\r\n"):
		return nil, fmt.Errorf("Message-ID %q", m.MessageID)
	case strings.ContainsAny(m.ListUnsubscribe, "\r\n"):
		return nil, errors.New("List-Unsubscribe spans lines")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.c.From); err != nil {
		return nil, err
	}
	if err := msg.To(m.To); err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	if m.ListUnsubscribe != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, m.ListUnsubscribe)
	}
	if m.Language != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Language)
	}
	// RFC 3834: no out-of-office replies to a notification.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}
