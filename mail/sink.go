package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	netmail "net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is an SMTP server on 127.0.0.1 that keeps what it receives in
// memory: the demo sends its e-mails there, over a real SMTP conversation,
// instead of to anyone's inbox. It speaks plain SMTP without AUTH (send to
// it with TLS "none") and is safe for concurrent use.
type Sink struct {
	srv *smtp.Server
	ln  net.Listener
	out io.Writer

	mu       sync.Mutex
	received []Received
	served   chan error

	closeOnce sync.Once
	closeErr  error
}

// Received is one message a Sink accepted.
type Received struct {
	From string   // the envelope sender
	To   []string // the envelope recipients
	Data []byte   // the message as sent: headers and body
	At   time.Time
}

// Header parses the message's header.
func (r Received) Header() (netmail.Header, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return nil, err
	}
	return m.Header, nil
}

// NewSink starts a sink on a free port of 127.0.0.1. When out is not nil,
// it writes one line per message there: recipient, subject, Message-ID.
func NewSink(out io.Writer) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mail: sink: %w", err)
	}
	s := &Sink{ln: ln, out: out, served: make(chan error, 1)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkConversation{sink: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	// Connection errors (a client that hangs up) are noise in a demo.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Config is how to send to the sink from the address from.
func (s *Sink) Config(from string) Config {
	return Config{Addr: s.Addr(), From: from, TLS: NoTLS}
}

// Received returns a copy of the messages received so far, oldest first.
func (s *Sink) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Close stops the sink and closes its connections. Closing again does
// nothing.
func (s *Sink) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
		if err := <-s.served; err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.closeErr = errors.Join(s.closeErr, err)
		}
	})
	return s.closeErr
}

func (s *Sink) add(r Received) {
	s.mu.Lock()
	s.received = append(s.received, r)
	out := s.out
	if out != nil {
		// Under the lock, so that lines of concurrent messages never mix.
		fmt.Fprintln(out, summary(r))
	}
	s.mu.Unlock()
}

// summary is one line about a message: "e-mail to x: "subject" <id>".
func summary(r Received) string {
	h, err := r.Header()
	if err != nil {
		return fmt.Sprintf("e-mail to %v: unreadable: %v", r.To, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		subject = h.Get("Subject")
	}
	return fmt.Sprintf("e-mail to %s: %q %s", h.Get("To"), subject, h.Get("Message-Id"))
}

type sinkConversation struct {
	sink *Sink
	from string
	to   []string
}

func (ss *sinkConversation) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkConversation) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkConversation) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.add(Received{From: ss.from, To: ss.to, Data: b, At: time.Now()})
	return nil
}

func (ss *sinkConversation) Reset() { ss.from, ss.to = "", nil }

func (ss *sinkConversation) Logout() error { return nil }
