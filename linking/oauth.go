package linking

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// CallbackPath is where a vendor's authorization page sends the
// customer's browser back, under Replenish's base URL.
const CallbackPath = "/link/callback"

// StateLifetime is how long a customer has to sign in at the vendor.
const StateLifetime = 10 * time.Minute

// refreshMargin: a vendor's access token is refreshed this long before it
// expires, so that it does not expire on its way to the vendor.
const refreshMargin = time.Minute

// begin starts a sign-in at the vendor's authorization page (OAuth 2.0
// authorization code with PKCE, RFC 7636): the state, random and single-use,
// is stored hashed with the code verifier, which never leaves Replenish.
func (s *Service) begin(ctx context.Context, v replenish.Vendor, customerID string) (replenish.Link, error) {
	auth, err := url.Parse(v.Settings.OAuthAuthorizationURL)
	if err != nil {
		return replenish.Link{}, vendorSettingErr(v, "oauthAuthorizationUrl", err)
	}
	if v.Settings.OAuthTokenURL == "" || v.Settings.OAuthClientID == "" {
		return replenish.Link{}, replenish.Errorf(replenish.EConflict,
			"vendor %s has an authorization URL but no token URL or client ID yet, so it cannot be linked", v.Code)
	}
	state := replenish.NewSecret("st_")
	verifier := replenish.NewID("", 64) // RFC 7636: 43 to 128 unreserved characters
	now := s.now()
	err = s.store.Write(ctx, func(tx storage.Tx) error {
		// States expired a day ago are only kept to say "expired" rather
		// than "unknown" to a customer who comes back late.
		if err := tx.DeleteLinkStates(ctx, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		return tx.InsertLinkState(ctx, storage.LinkState{Hash: replenish.HashSecret(state), CustomerID: customerID,
			VendorCode: v.Code, Verifier: verifier, ExpiresAt: now.Add(StateLifetime)})
	})
	if err != nil {
		return replenish.Link{}, err
	}
	q := auth.Query()
	q.Set("response_type", "code")
	q.Set("client_id", v.Settings.OAuthClientID)
	q.Set("redirect_uri", s.callbackURL)
	q.Set("state", state)
	q.Set("code_challenge", Challenge(verifier))
	q.Set("code_challenge_method", "S256")
	auth.RawQuery = q.Encode()
	return replenish.Link{CustomerID: customerID, VendorCode: v.Code, Status: replenish.LinkPending,
		UpdatedAt: now, AuthorizeURL: auth.String()}, nil
}

// Challenge is the S256 code challenge of a PKCE code verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Callback is what a vendor's authorization page sends back through the
// customer's browser: a code, or an error (RFC 6749, section 4.1.2).
type Callback struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// Finished is how a sign-in at a vendor ended.
type Finished struct {
	VendorName string
	// Declined is set when the customer said no at the vendor's page;
	// nothing changed then.
	Declined bool
	Link     replenish.Link
}

// Finish completes a sign-in begun by Link: it checks and spends the
// state, exchanges the code at the vendor's token URL with the PKCE code
// verifier, and links with the vendor's access token as grantee token.
// The vendor's name is known, for the customer's page, whenever the state
// is.
func (s *Service) Finish(ctx context.Context, cb Callback) (Finished, error) {
	var st storage.LinkState
	var v replenish.Vendor
	if cb.State == "" {
		return Finished{}, replenish.FieldError("state", "missing: this page is only reached from a vendor's sign-in page")
	}
	now := s.now()
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		st, err = tx.LinkState(ctx, replenish.HashSecret(cb.State))
		if replenish.ErrorCode(err) == replenish.ENotFound {
			return replenish.FieldError("state", "unknown: this sign-in was not started by Replenish")
		}
		if err != nil {
			return err
		}
		if v, err = tx.Vendor(ctx, st.VendorCode); err != nil {
			return err
		}
		switch {
		case !st.UsedAt.IsZero():
			return replenish.FieldError("state", "already used: each sign-in link works once")
		case !now.Before(st.ExpiresAt):
			return replenish.FieldError("state", fmt.Sprintf("expired: a sign-in must be finished within %d minutes", int(StateLifetime.Minutes())))
		}
		return tx.UseLinkState(ctx, st.Hash, now)
	})
	out := Finished{VendorName: v.Name}
	if err != nil {
		return out, err
	}
	switch {
	case cb.Error == "access_denied":
		out.Declined = true
		return out, nil
	case cb.Error != "":
		return out, vendorPageErr(v, fmt.Sprintf("answered %s (%s)", cb.Error, cb.ErrorDescription))
	case cb.Code == "":
		return out, vendorPageErr(v, "sent neither a code nor an error")
	}
	tok, err := s.vendorToken(ctx, v, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Code},
		"redirect_uri": {s.callbackURL}, "code_verifier": {st.Verifier}})
	if err != nil {
		return out, err
	}
	out.Link, err = s.complete(ctx, v, st.CustomerID, tok, false)
	return out, err
}

// GranteeToken returns the grantee token of a linked customer, refreshing
// the vendor's access token first when it is about to expire. The
// vendor's refresh token rotates when the vendor sends a new one.
func (s *Service) GranteeToken(ctx context.Context, customerID, vendorCode string) (string, error) {
	l, err := s.linked(ctx, customerID, vendorCode)
	if err != nil || !s.stale(l) {
		return l.GranteeToken, err
	}
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	// Another refresh may have happened while this one waited.
	if l, err = s.linked(ctx, customerID, vendorCode); err != nil || !s.stale(l) {
		return l.GranteeToken, err
	}
	var v replenish.Vendor
	if err := s.store.Read(ctx, func(tx storage.Tx) error {
		v, err = tx.Vendor(ctx, vendorCode)
		return err
	}); err != nil {
		return "", err
	}
	if l.GranteeRefresh == "" {
		return "", vendorTokenErr(v, "gave no refresh token and the access token expired; the customer must link again", nil)
	}
	tok, err := s.vendorToken(ctx, v, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {l.GranteeRefresh}})
	if err != nil {
		return "", err
	}
	l.GranteeToken, l.GranteeExpiresAt = tok.GranteeToken, tok.GranteeExpiresAt
	if tok.GranteeRefresh != "" {
		l.GranteeRefresh = tok.GranteeRefresh
	}
	// The vendor has spent the old refresh token: the new one is stored
	// even if the caller has gone away meanwhile, or the link is lost.
	ctx = context.WithoutCancel(ctx)
	err = s.store.Write(ctx, func(tx storage.Tx) error {
		cur, err := tx.Link(ctx, customerID, vendorCode)
		if err != nil {
			return err
		}
		if cur.Status != replenish.LinkLinked {
			return replenish.Errorf(replenish.EConflict, "the customer unlinked vendor %s", vendorCode)
		}
		cur.GranteeToken, cur.GranteeRefresh, cur.GranteeExpiresAt = l.GranteeToken, l.GranteeRefresh, l.GranteeExpiresAt
		return tx.PutLink(ctx, cur)
	})
	return l.GranteeToken, err
}

func (s *Service) linked(ctx context.Context, customerID, vendorCode string) (replenish.Link, error) {
	var l replenish.Link
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		var err error
		l, err = tx.Link(ctx, customerID, vendorCode)
		return err
	})
	if err == nil && l.Status != replenish.LinkLinked {
		err = replenish.Errorf(replenish.EConflict, "the customer is not linked with vendor %s", vendorCode)
	}
	return l, err
}

// stale tells whether l's grantee token is a vendor's that is about to expire.
func (s *Service) stale(l replenish.Link) bool {
	return !l.GranteeExpiresAt.IsZero() && !s.now().Before(l.GranteeExpiresAt.Add(-refreshMargin))
}

// vendorToken posts form to the vendor's token URL, with Replenish's
// client credentials at the vendor in the form (as Login with Amazon
// takes them), and returns the tokens as a Link's grantee fields. It is
// never retried: codes are single-use and refresh tokens rotate, so a
// second try could only be refused.
func (s *Service) vendorToken(ctx context.Context, v replenish.Vendor, form url.Values) (replenish.Link, error) {
	form.Set("client_id", v.Settings.OAuthClientID)
	form.Set("client_secret", v.Settings.OAuthClientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.Settings.OAuthTokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return replenish.Link{}, vendorSettingErr(v, "oauthTokenUrl", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return replenish.Link{}, vendorTokenErr(v, "did not answer", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return replenish.Link{}, vendorTokenErr(v, "broke off its answer", err)
	}
	if resp.StatusCode != http.StatusOK {
		var oe OAuthError
		json.Unmarshal(data, &oe)
		return replenish.Link{}, vendorTokenErr(v, fmt.Sprintf("refused with HTTP %d %s: %s", resp.StatusCode, oe.Code, oe.Description), nil)
	}
	var tok TokenResponse
	if err := json.Unmarshal(data, &tok); err != nil {
		return replenish.Link{}, vendorTokenErr(v, "answered with JSON that does not decode", err)
	}
	if tok.AccessToken == "" {
		return replenish.Link{}, vendorTokenErr(v, "answered without an access_token", nil)
	}
	out := replenish.Link{GranteeToken: tok.AccessToken, GranteeRefresh: tok.RefreshToken}
	if tok.ExpiresIn > 0 {
		out.GranteeExpiresAt = s.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return out, nil
}

func vendorTokenErr(v replenish.Vendor, what string, cause error) error {
	return &replenish.Error{Code: replenish.EVendor, Message: "the token URL of vendor " + v.Code + " " + what, Err: cause}
}

func vendorPageErr(v replenish.Vendor, what string) error {
	return replenish.Errorf(replenish.EVendor, "the sign-in page of vendor %s %s", v.Code, what)
}

func vendorSettingErr(v replenish.Vendor, field string, cause error) error {
	return &replenish.Error{Code: replenish.EVendor, Message: "vendor " + v.Code + " has a " + field + " that cannot be used", Err: cause}
}
