// Package console is the Dash console: the operator's catalog, vendors,
// device models with their slots and product lists, replenishment-ID
// requests and their review, test accounts, customers, and API keys.
package console

import (
	"context"
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"replenish"
	"replenish/catalog"
	"replenish/measure"
	"replenish/storage"
)

// Service runs the console's use cases, one transaction each.
type Service struct {
	store storage.Store
	now   func() time.Time
}

// New returns a Service on store; now is the clock.
func New(store storage.Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

var (
	identPattern      = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	vendorCodePattern = regexp.MustCompile(`^[a-z0-9.-]{2,32}$`)
	localePattern     = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
)

// textLen checks that s has between lo and hi characters and is not blank.
func textLen(f replenish.Fields, field, s string, lo, hi int) {
	n := utf8.RuneCountInString(s)
	switch {
	case lo > 0 && strings.TrimSpace(s) == "":
		f.Add(field, "required")
	case n < lo || n > hi:
		f.Add(field, fmt.Sprintf("must be %d to %d characters", lo, hi))
	}
}

// Bootstrap prepares a new database: at the first start it seeds the
// catalog and creates the operator's API key, which it returns (the key
// given, or a generated one). Later starts return "".
func (s *Service) Bootstrap(ctx context.Context, operatorKey string) (string, error) {
	if operatorKey != "" && len(operatorKey) < 16 {
		return "", replenish.FieldError("operatorKey", "must be at least 16 characters")
	}
	created := ""
	bootstrap := func(tx storage.Tx) error {
		created = ""
		has, err := tx.HasOperator(ctx)
		if err != nil || has {
			return err
		}
		if err := catalog.Seed(ctx, tx); err != nil {
			return err
		}
		created = operatorKey
		if created == "" {
			created = replenish.NewSecret("rk_op_")
		}
		return tx.InsertAPIKey(ctx, replenish.HashSecret(created), replenish.Principal{Role: replenish.RoleOperator}, s.now())
	}
	err := s.store.Write(ctx, bootstrap)
	if replenish.ErrorCode(err) == replenish.EConflict {
		// Another instance started on the same new database at the same
		// moment and bootstrapped it first: this run finds its operator.
		err = s.store.Write(ctx, bootstrap)
	}
	return created, err
}

// Authenticate returns who holds key.
func (s *Service) Authenticate(ctx context.Context, key string) (replenish.Principal, error) {
	var p replenish.Principal
	if key == "" {
		return p, replenish.Errorf(replenish.EUnauthorized, "an API key is required: Authorization: Bearer <key>")
	}
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		p, err = tx.PrincipalByKey(ctx, replenish.HashSecret(key))
		return err
	})
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return p, replenish.Errorf(replenish.EUnauthorized, "unknown API key")
	}
	return p, err
}

// Marketplaces lists the marketplaces.
func (s *Service) Marketplaces(ctx context.Context) (ms []replenish.Marketplace, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		ms, err = tx.Marketplaces(ctx)
		return err
	})
	return ms, err
}

// PutProduct creates or replaces a product of the catalog and returns it
// as stored. What a client reading the contract may send is read into one
// spelling: the category in any case, with spaces or hyphens
// (catalog.NormalizeCategory); a price as decimal text, from a string or a
// JSON number (catalog.NormalizePrice); a currency and a marketplace code
// in any case. Problems are named by the fields as given, such as
// offers.us.price.
func (s *Service) PutProduct(ctx context.Context, p replenish.Product) (replenish.Product, error) {
	f := replenish.Fields{}
	if !identPattern.MatchString(p.ProductID) {
		f.Add("productId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
	}
	p.Category = checkCategory(f, p.Category)
	if p.PackQuantity <= 0 {
		f.Add("packQuantity", "must be more than 0")
	}
	if p.PackUnit != string(measure.Count) {
		if _, ok := measure.UnitKind(measure.Unit(p.PackUnit)); !ok {
			f.Add("packUnit", "must be Count or a volume or weight unit such as US_FLUID_OUNCE or GRAM")
		}
	}
	if len(p.Offers) == 0 {
		f.Add("offers", "at least one marketplace")
	}
	offers := make(map[string]replenish.Offer, len(p.Offers))
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		// In order, so that of "US" and "us" the second is the one refused.
		for _, given := range slices.Sorted(maps.Keys(p.Offers)) {
			o, field := p.Offers[given], "offers."+given
			m, err := tx.Marketplace(ctx, asciiUpper(strings.TrimSpace(given)))
			if err != nil {
				f.Add(field, "unknown marketplace")
				continue
			}
			if _, twice := offers[m.Code]; twice {
				f.Add(field, "the offer in "+m.Code+" is given twice")
				continue
			}
			textLen(f, field+".title", o.Title, 1, 200)
			price, err := catalog.NormalizePrice(o.Price)
			if err != nil {
				f.Add(field+".price", err.Error())
			}
			currency := asciiUpper(strings.TrimSpace(o.Currency))
			if currency != m.Currency {
				f.Add(field+".currency", "must be "+m.Currency+", the currency of "+m.Code)
			}
			offers[m.Code] = replenish.Offer{Title: o.Title, Price: price, Currency: currency, Available: o.Available}
		}
		if err := f.Err(); err != nil {
			return err
		}
		p.Offers = offers
		return tx.PutProduct(ctx, p)
	})
	if err != nil {
		return replenish.Product{}, err
	}
	return p, nil
}

// asciiUpper upper-cases the ASCII letters of s and nothing else, so that
// no look-alike letter (a long s, a dotless i) turns into a code.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// NewVendor is a created vendor with its credentials, shown once.
type NewVendor struct {
	VendorCode    string `json:"vendorCode"`
	Name          string `json:"name"`
	APIKey        string `json:"apiKey"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	SigningSecret string `json:"signingSecret"`
}

// VendorSummary is a vendor as lists show it: no credentials.
type VendorSummary struct {
	VendorCode string    `json:"vendorCode"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Vendors lists every vendor, by code.
func (s *Service) Vendors(ctx context.Context) ([]VendorSummary, error) {
	var out []VendorSummary
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		vs, err := tx.Vendors(ctx)
		for _, v := range vs {
			out = append(out, VendorSummary{VendorCode: v.Code, Name: v.Name, CreatedAt: v.CreatedAt})
		}
		return err
	})
	return out, err
}

// CreateVendor creates a vendor with an API key, a client ID and secret
// for the token endpoint, and a signing secret.
func (s *Service) CreateVendor(ctx context.Context, code, name string) (NewVendor, error) {
	f := replenish.Fields{}
	if !vendorCodePattern.MatchString(code) {
		f.Add("vendorCode", "must be 2 to 32 characters of a-z 0-9 . -")
	}
	textLen(f, "name", name, 1, 100)
	if err := f.Err(); err != nil {
		return NewVendor{}, err
	}
	nv := NewVendor{
		VendorCode: code, Name: name,
		APIKey:        replenish.NewSecret("rk_v_"),
		ClientID:      replenish.NewID("rc-", 20),
		ClientSecret:  replenish.NewSecret("rcs_"),
		SigningSecret: replenish.NewSecret("rss_"),
	}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		v := replenish.Vendor{Code: code, Name: name, ClientID: nv.ClientID, SigningSecret: nv.SigningSecret, CreatedAt: s.now()}
		if err := tx.InsertVendor(ctx, v, replenish.HashSecret(nv.ClientSecret)); err != nil {
			if replenish.ErrorCode(err) == replenish.EConflict {
				return &replenish.Error{Code: replenish.EConflict, Message: "vendorCode: " + code + " is taken",
					Fields: map[string]string{"vendorCode": "is taken"}}
			}
			return err
		}
		return tx.InsertAPIKey(ctx, replenish.HashSecret(nv.APIKey), replenish.Principal{Role: replenish.RoleVendor, VendorCode: code}, s.now())
	})
	return nv, err
}

// Vendor returns a vendor.
func (s *Service) Vendor(ctx context.Context, code string) (v replenish.Vendor, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		v, err = tx.Vendor(ctx, code)
		return err
	})
	return v, err
}

// PutVendorSettings replaces a vendor's settings. An empty OAuth client
// secret keeps the stored one, since secrets are never read back.
func (s *Service) PutVendorSettings(ctx context.Context, code string, in replenish.VendorSettings) (replenish.VendorSettings, error) {
	f := replenish.Fields{}
	for field, u := range map[string]string{
		"skillEndpointUrl": in.SkillEndpointURL, "oauthAuthorizationUrl": in.OAuthAuthorizationURL,
		"oauthTokenUrl": in.OAuthTokenURL, "webhookUrl": in.WebhookURL,
	} {
		if u != "" {
			if problem := replenish.WebURLProblem(u); problem != "" {
				f.Add(field, problem)
			}
		}
	}
	textLen(f, "oauthClientId", in.OAuthClientID, 0, 200)
	textLen(f, "oauthClientSecret", in.OAuthClientSecret, 0, 500)
	if len(in.AllowedExitURIs) > 50 {
		f.Add("allowedExitUris", "at most 50")
	}
	for i, u := range in.AllowedExitURIs {
		if problem := checkExitURI(u); problem != "" {
			f.Add(fmt.Sprintf("allowedExitUris[%d]", i), problem)
		}
	}
	if err := f.Err(); err != nil {
		return in, err
	}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		v, err := tx.Vendor(ctx, code)
		if err != nil {
			return err
		}
		if in.OAuthClientSecret == "" {
			in.OAuthClientSecret = v.Settings.OAuthClientSecret
		}
		return tx.UpdateVendorSettings(ctx, code, in)
	})
	if in.AllowedExitURIs == nil {
		in.AllowedExitURIs = []string{}
	}
	return in, err
}

// checkExitURI says what is wrong with an allowed exitUri: an absolute
// URI with a scheme (an app's own scheme is fine), where a final * allows
// any URI that starts with what comes before it. Schemes that run code or
// read files are refused: customers are sent there.
func checkExitURI(s string) string {
	prefix, wild := strings.CutSuffix(s, "*")
	u, err := url.Parse(prefix)
	switch {
	case strings.Contains(prefix, "*"):
		return "a * is allowed only at the end"
	case err != nil || u.Scheme == "" || (!wild && u.Opaque == "" && u.Host == "" && u.Path == ""):
		return "must be an absolute URI with a scheme, such as https://example.com/done or myapp://back"
	case slices.Contains([]string{"javascript", "data", "vbscript", "file"}, strings.ToLower(u.Scheme)):
		return "the " + u.Scheme + ": scheme is not allowed"
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return "an http or https URI needs a host"
	}
	return ""
}

// NewCustomer is a created customer with its API key, shown once.
type NewCustomer struct {
	replenish.Customer
	APIKey string `json:"apiKey"`
}

// CreateCustomer creates a customer with an API key. The locale defaults
// to the marketplace's.
func (s *Service) CreateCustomer(ctx context.Context, c replenish.Customer) (NewCustomer, error) {
	f := replenish.Fields{}
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
		f.Add("email", "must be an e-mail address such as jo@example.com")
	}
	textLen(f, "name", c.Name, 1, 100)
	if c.Locale != "" && !localePattern.MatchString(c.Locale) {
		f.Add("locale", "must be a language tag such as en-US")
	}
	nc := NewCustomer{Customer: c, APIKey: replenish.NewSecret("rk_c_")}
	nc.CustomerID = replenish.NewID("cu-", 16)
	nc.CreatedAt = s.now()
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		m, err := tx.Marketplace(ctx, c.Marketplace)
		if err != nil {
			f.Add("marketplace", "unknown marketplace; GET /api/v1/marketplaces lists them")
		}
		if err := f.Err(); err != nil {
			return err
		}
		if nc.Locale == "" {
			nc.Locale = m.Locale
		}
		if err := tx.InsertCustomer(ctx, nc.Customer); err != nil {
			if replenish.ErrorCode(err) == replenish.EConflict {
				return &replenish.Error{Code: replenish.EConflict, Message: "email: a customer with this address exists",
					Fields: map[string]string{"email": "a customer with this address exists"}}
			}
			return err
		}
		return tx.InsertAPIKey(ctx, replenish.HashSecret(nc.APIKey),
			replenish.Principal{Role: replenish.RoleCustomer, CustomerID: nc.CustomerID}, s.now())
	})
	return nc, err
}
