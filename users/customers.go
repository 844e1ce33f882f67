package users

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"replenish"
	"replenish/storage"
)

// SignUp is what a customer signs up with on the customer pages.
type SignUp struct {
	Email       string
	Password    string
	Name        string
	Marketplace string
}

// MaxName is the longest name a customer may give.
const MaxName = 100

// SignUp creates a customer and the customer's sign-in in one
// transaction, and opens a session. The customer gets their
// marketplace's locale, as customers made through the API do.
func (s *Service) SignUp(ctx context.Context, in SignUp) (Session, error) {
	f := replenish.Fields{}
	email := normalEmail(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		f.Add("email", "must be an e-mail address such as jo@example.com")
	}
	if n := utf8.RuneCountInString(in.Password); n < MinPassword || n > MaxPassword {
		f.Add("password", fmt.Sprintf("must be %d to %d characters", MinPassword, MaxPassword))
	}
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxName || strings.ContainsAny(name, "\x00\r\n") {
		f.Add("name", fmt.Sprintf("required: 1 to %d characters on one line", MaxName))
	}
	if in.Marketplace == "" {
		f.Add("marketplace", "required: choose where you shop")
	}
	now := s.now()
	c := replenish.Customer{CustomerID: replenish.NewID("cu-", 16), Email: email, Name: name,
		Marketplace: in.Marketplace, CreatedAt: now}
	u := replenish.User{UserID: replenish.NewID("us-", 16), Email: email, Role: replenish.RoleCustomer,
		CustomerID: c.CustomerID, CreatedAt: now}
	var hash string
	if len(f) == 0 {
		hash = hashPassword(in.Password)
	}
	sess := Session{Token: replenish.NewSecret("rs_"), User: u, ExpiresAt: now.Add(SessionTTL)}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if in.Marketplace != "" {
			m, err := tx.Marketplace(ctx, in.Marketplace)
			switch {
			case replenish.ErrorCode(err) == replenish.ENotFound:
				f.Add("marketplace", "not a marketplace of this service")
			case err != nil:
				return err
			default:
				c.Locale = m.Locale
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		taken := &replenish.Error{Code: replenish.EConflict, Message: "email: an account with this address exists; sign in instead",
			Fields: map[string]string{"email": "an account with this address exists; sign in instead"}}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			if replenish.ErrorCode(err) == replenish.EConflict {
				return taken
			}
			return err
		}
		if err := tx.InsertUser(ctx, u, hash); err != nil {
			if replenish.ErrorCode(err) == replenish.EConflict {
				return taken
			}
			return err
		}
		return tx.InsertSession(ctx, replenish.HashSecret(sess.Token), u.UserID, now, sess.ExpiresAt)
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// The failed-attempt limit of sign-in: after MaxFailures wrong passwords
// for one e-mail address within FailureWindow, that address cannot sign
// in until LockedFor has passed since the last failure.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	LockedFor     = 15 * time.Minute
)

// failures counts refused sign-ins per e-mail address, in this process.
type failures struct {
	mu sync.Mutex
	by map[string]*failed
}

type failed struct {
	count      int
	first, end time.Time
}

// locked returns how long email stays locked at now (0: it is not).
func (f *failures) locked(email string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.by[email]
	if x == nil || x.count < MaxFailures || !now.Before(x.end) {
		return 0
	}
	return x.end.Sub(now)
}

// fail records a refused sign-in of email at now.
func (f *failures) fail(email string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.by == nil {
		f.by = map[string]*failed{}
	}
	if len(f.by) > 100_000 {
		// Forget what no longer counts, so that guessing many addresses
		// cannot grow the map without end.
		for k, x := range f.by {
			if now.Sub(x.first) > FailureWindow && !now.Before(x.end) {
				delete(f.by, k)
			}
		}
	}
	x := f.by[email]
	if x == nil || now.Sub(x.first) > FailureWindow && !now.Before(x.end) {
		x = &failed{first: now}
		f.by[email] = x
	}
	x.count++
	x.end = now.Add(LockedFor)
}

// succeed forgets the failures of email.
func (f *failures) succeed(email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.by, email)
}

// errLocked is the answer while an address is locked.
func errLocked(wait time.Duration) error {
	minutes := int(wait.Round(time.Minute) / time.Minute)
	if minutes < 1 {
		minutes = 1
	}
	msg := fmt.Sprintf("too many failed attempts for this address; try again in %d minutes", minutes)
	return &replenish.Error{Code: replenish.EThrottled, Message: msg, RetryAfter: wait,
		Fields: map[string]string{"password": msg}}
}
