// Package users is who signs in to the web pages: console users with an
// e-mail, a password and a role (the operator's staff, or a vendor's), and
// their sessions.
package users

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"replenish"
	"replenish/storage"
)

// SessionTTL is how long a session lasts after sign-in.
const SessionTTL = 12 * time.Hour

// Password lengths accepted. The upper bound keeps hashing cheap for a
// request that sends a huge password.
const (
	MinPassword = 10
	MaxPassword = 200
)

// Service runs the use cases of users and sessions, one transaction each.
type Service struct {
	store storage.Store
	now   func() time.Time
	// dummy is a hash checked when the e-mail is unknown, so that a
	// refused sign-in takes as long whether or not the user exists.
	dummy string
	// failed counts refused sign-ins, for the failed-attempt limit.
	failed failures
}

// New returns a Service on store; now is the clock.
func New(store storage.Store, now func() time.Time) *Service {
	return &Service{store: store, now: now, dummy: hashPassword(replenish.NewSecret(""))}
}

// NewUser is what creates a user.
type NewUser struct {
	Email      string         `json:"email"`
	Password   string         `json:"password"`
	Role       replenish.Role `json:"role"`
	VendorCode string         `json:"vendorCode"`
	// CustomerID is the customer a customer user signs in as: one made
	// through the API, given a sign-in afterwards.
	CustomerID string `json:"-"`
}

// normalEmail is the form e-mails are kept and looked up in.
func normalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Check checks a new user's fields without looking at the database, so
// that a form creating a vendor and its first user can refuse both at once.
func Check(in NewUser) error {
	f := replenish.Fields{}
	email := normalEmail(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		f.Add("email", "must be an e-mail address such as jo@example.com")
	}
	if n := utf8.RuneCountInString(in.Password); n < MinPassword || n > MaxPassword {
		f.Add("password", "must be 10 to 200 characters")
	}
	switch in.Role {
	case replenish.RoleOperator:
		if in.VendorCode != "" {
			f.Add("vendorCode", "only for vendor users")
		}
	case replenish.RoleVendor:
		if in.VendorCode == "" {
			f.Add("vendorCode", "required for vendor users")
		}
	case replenish.RoleCustomer:
		if in.CustomerID == "" {
			f.Add("customerId", "required for customer users")
		}
		if in.VendorCode != "" {
			f.Add("vendorCode", "only for vendor users")
		}
	default:
		f.Add("role", "must be operator, vendor or customer")
	}
	if in.Role != replenish.RoleCustomer && in.CustomerID != "" {
		f.Add("customerId", "only for customer users")
	}
	return f.Err()
}

// Create creates a user: an operator, or a user of an existing vendor.
func (s *Service) Create(ctx context.Context, in NewUser) (replenish.User, error) {
	if err := Check(in); err != nil {
		return replenish.User{}, err
	}
	u := replenish.User{UserID: replenish.NewID("us-", 16), Email: normalEmail(in.Email), Role: in.Role,
		VendorCode: in.VendorCode, CustomerID: in.CustomerID, CreatedAt: s.now()}
	hash := hashPassword(in.Password)
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if u.Role == replenish.RoleVendor {
			if _, err := tx.Vendor(ctx, u.VendorCode); err != nil {
				if replenish.ErrorCode(err) == replenish.ENotFound {
					return replenish.FieldError("vendorCode", "no vendor "+u.VendorCode)
				}
				return err
			}
		}
		if u.Role == replenish.RoleCustomer {
			if _, err := tx.Customer(ctx, u.CustomerID); err != nil {
				if replenish.ErrorCode(err) == replenish.ENotFound {
					return replenish.FieldError("customerId", "no customer "+u.CustomerID)
				}
				return err
			}
		}
		err := tx.InsertUser(ctx, u, hash)
		if replenish.ErrorCode(err) == replenish.EConflict {
			return &replenish.Error{Code: replenish.EConflict, Message: "email: a user with this address exists",
				Fields: map[string]string{"email": "a user with this address exists"}}
		}
		return err
	})
	return u, err
}

// Users lists the users of a vendor, or every user when vendorCode is "".
func (s *Service) Users(ctx context.Context, vendorCode string) (us []replenish.User, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		us, err = tx.Users(ctx, vendorCode)
		return err
	})
	return us, err
}

// HasOperator reports whether an operator user exists.
func (s *Service) HasOperator(ctx context.Context) (has bool, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		has, err = tx.HasOperatorUser(ctx)
		return err
	})
	return has, err
}

// Session is a signed-in user's session. Token goes in the cookie; only
// its hash is stored.
type Session struct {
	Token     string
	User      replenish.User
	ExpiresAt time.Time
}

// errSignIn is the one answer to a wrong e-mail or password, so that it
// tells nobody which of the two was wrong.
var errSignIn = &replenish.Error{Code: replenish.EUnauthorized, Message: "the e-mail or the password is wrong",
	Fields: map[string]string{"password": "the e-mail or the password is wrong"}}

// SignIn checks the e-mail and password and opens a session.
func (s *Service) SignIn(ctx context.Context, email, password string) (Session, error) {
	email = normalEmail(email)
	if wait := s.failed.locked(email, s.now()); wait > 0 {
		return Session{}, errLocked(wait)
	}
	if len(password) > 4*MaxPassword {
		s.failed.fail(email, s.now())
		return Session{}, errSignIn
	}
	var u replenish.User
	var hash string
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		u, hash, err = tx.UserByEmail(ctx, email)
		return err
	})
	switch {
	case replenish.ErrorCode(err) == replenish.ENotFound:
		checkPassword(s.dummy, password)
		s.failed.fail(email, s.now())
		return Session{}, errSignIn
	case err != nil:
		return Session{}, err
	case !checkPassword(hash, password):
		s.failed.fail(email, s.now())
		return Session{}, errSignIn
	}
	s.failed.succeed(email)
	now := s.now()
	sess := Session{Token: replenish.NewSecret("rs_"), User: u, ExpiresAt: now.Add(SessionTTL)}
	err = s.store.Write(ctx, func(tx storage.Tx) error {
		return tx.InsertSession(ctx, replenish.HashSecret(sess.Token), u.UserID, now, sess.ExpiresAt)
	})
	return sess, err
}

// User returns the user of a session token; an unknown or expired token
// is unauthorized.
func (s *Service) User(ctx context.Context, token string) (u replenish.User, err error) {
	if token == "" {
		return u, replenish.Errorf(replenish.EUnauthorized, "sign in first")
	}
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		u, err = tx.SessionUser(ctx, replenish.HashSecret(token), s.now())
		return err
	})
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return u, replenish.Errorf(replenish.EUnauthorized, "the session has ended; sign in again")
	}
	return u, err
}

// SignOut ends a session. Ending one that is gone changes nothing.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		return tx.DeleteSession(ctx, replenish.HashSecret(token))
	})
}
