package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/linking"
	"replenish/simulator"
	"replenish/storage"
)

// oaWorld is a vendor whose cloud is the simulator with its own
// authorization server, and a customer who has not linked yet.
type oaWorld struct {
	e        *env
	v        *simulator.Vendor
	cloud    *simulator.Cloud
	cloudURL string
	c        *simulator.Customer
}

// oaPrinters is how many printers each simulated account has.
const oaPrinters = 2

func oaNew(t testing.TB) *oaWorld {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	// The cloud listens first: its URL is the vendor's skill endpoint and
	// authorization server, registered before the cloud knows its secrets.
	hs := httptest.NewUnstartedServer(nil)
	cloudURL := "http://" + hs.Listener.Addr().String()
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.Register(ctx, api, e.OperatorKey, cloudURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	cloud := simulator.NewCloud(simulator.Config{ReplenishURL: e.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, Printers: oaPrinters,
		StartMin: 40, StartMax: 90, DrainMin: 5, DrainMax: 10, Rand: rand.New(rand.NewPCG(4, 1)),
		HTTP: &http.Client{Timeout: 10 * time.Second}})
	hs.Config.Handler = cloud
	hs.Start()
	t.Cleanup(hs.Close)
	if err := simulator.EnableOAuth(ctx, api, v, cloud, cloudURL, e.URL); err != nil {
		t.Fatal(err)
	}
	c := gwCustomer(t, e)
	gwTestAccount(t, e, v.APIKey, v.ModelID, c)
	return &oaWorld{e: e, v: v, cloud: cloud, cloudURL: cloudURL, c: c}
}

// start asks Replenish to link and returns the authorization URL.
func (w *oaWorld) start(t testing.TB) *url.URL {
	t.Helper()
	var l replenish.Link
	w.e.must(http.StatusOK, "POST", "/api/v1/links", w.c.APIKey, map[string]string{"vendorCode": w.v.VendorCode}, &l)
	if l.Status != replenish.LinkPending || l.AuthorizeURL == "" {
		t.Fatalf("link %+v, want PENDING with an authorizeUrl", l)
	}
	u, err := url.Parse(l.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize answers the simulator's authorization page as a customer
// signed in as account would, with decision "allow" or "deny", and
// returns where the page sends the browser back.
func (w *oaWorld) authorize(t *testing.T, auth *url.URL, account, decision string) string {
	t.Helper()
	form := auth.Query()
	form.Set("account", account)
	form.Set("decision", decision)
	resp, err := noRedirects.PostForm(w.cloudURL+simulator.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorization page: %d %s, want 302", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

var (
	oaTitle   = regexp.MustCompile(`id="title"[^>]*>([^<]*)<`)
	oaMessage = regexp.MustCompile(`id="message">([^<]*)<`)
	oaNext    = regexp.MustCompile(`id="next">([^<]*)<`)
)

// page is what the callback page said.
type page struct {
	status               int
	title, message, next string
}

// callback loads the callback page at u, as the customer's browser does.
func callback(t *testing.T, u string) page {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.HasPrefix(body, "<!doctype html>") {
		t.Fatalf("callback %s: %s %q, want a full HTML document", u, ct, body)
	}
	// The URL carries a code: it must not leak to other sites, and the
	// page must not be framed by one.
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("callback page %s: %q, want %q", h, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("callback page Content-Security-Policy %q, want default-src 'none' and frame-ancestors 'none'", csp)
	}
	p := page{status: resp.StatusCode}
	for _, f := range []struct {
		re  *regexp.Regexp
		out *string
	}{{oaTitle, &p.title}, {oaMessage, &p.message}, {oaNext, &p.next}} {
		m := f.re.FindStringSubmatch(body)
		if m == nil || strings.TrimSpace(m[1]) == "" {
			t.Fatalf("callback page without %s: %s", f.re, body)
		}
		*f.out = html.UnescapeString(m[1])
	}
	return p
}

// link runs the whole flow as account and requires a linked page.
func (w *oaWorld) link(t *testing.T, account string) page {
	t.Helper()
	p := callback(t, w.authorize(t, w.start(t), account, "allow"))
	if p.status != http.StatusOK || !strings.HasPrefix(p.title, "Linked with") {
		t.Fatalf("callback page %+v, want 200 Linked", p)
	}
	return p
}

// report has the simulated cloud send every printer's levels for the
// account that linked last, and returns the gateway's statuses.
func (w *oaWorld) report(t *testing.T) []int {
	t.Helper()
	accounts := w.cloud.Accounts()
	if len(accounts) == 0 {
		t.Fatal("the simulated cloud has no linked account")
	}
	a := accounts[len(accounts)-1]
	var statuses []int
	for _, d := range a.Devices {
		status, _ := w.cloud.Report(context.Background(), a, d, replenish.NewUUID(), time.Now())
		statuses = append(statuses, status)
	}
	return statuses
}

func TestLinkOAuthFlow(t *testing.T) {
	w := oaNew(t)
	auth := w.start(t)
	q := auth.Query()
	if got := auth.Scheme + "://" + auth.Host + auth.Path; got != w.cloudURL+simulator.AuthorizePath {
		t.Errorf("authorizeUrl goes to %s, want the vendor's authorization URL", got)
	}
	for k, want := range map[string]string{"response_type": "code", "redirect_uri": w.e.URL + linking.CallbackPath,
		"code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("authorizeUrl %s=%q, want %q", k, q.Get(k), want)
		}
	}
	if q.Get("client_id") == "" || len(q.Get("state")) < 32 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("authorizeUrl %s: want a client_id, a random state and an S256 challenge", auth)
	}
	// Starting changed nothing yet: no devices until the customer signs in.
	lkNoEndpoints(t, w.e, w.c)

	// Two starts get different states and challenges.
	again := w.start(t).Query()
	if again.Get("state") == q.Get("state") || again.Get("code_challenge") == q.Get("code_challenge") {
		t.Errorf("two starts share state or challenge: %v %v", q, again)
	}

	p := callback(t, w.authorize(t, auth, "alice", "allow"))
	if p.status != http.StatusOK || p.title != "Linked with Simulated Printers "+strings.TrimPrefix(w.v.VendorCode, "sim-") ||
		p.message != "2 devices found." {
		t.Fatalf("callback page %+v, want 200 linked with 2 devices", p)
	}
	if es := gwEndpoints(t, w.e, w.c); len(es) != oaPrinters {
		t.Fatalf("%d endpoints after linking, want %d", len(es), oaPrinters)
	}
	// The vendor's tokens are kept for the link, with their expiry.
	l := oaStoredLink(t, w)
	if l.Status != replenish.LinkLinked || !strings.HasPrefix(l.GranteeToken, "simat_") ||
		!strings.HasPrefix(l.GranteeRefresh, "simrt_") || !l.GranteeExpiresAt.Equal(w.e.clock.Now().Add(simulator.OAuthAccessLifetime)) {
		t.Errorf("stored link %+v, want LINKED with the simulator's tokens expiring in an hour", l)
	}
	for i, status := range w.report(t) {
		if status != http.StatusAccepted {
			t.Errorf("report of printer %d: %d, want 202", i, status)
		}
	}
	d := w.cloud.Accounts()[0].Devices[0]
	if s := gwSlot(t, w.e, w.c, d.EndpointID, "SLOT01"); s.Level == nil || s.Level.Value != math.Round(d.Levels[0]) {
		t.Errorf("slot %+v after the report, want the printer's black level %v", s, math.Round(d.Levels[0]))
	}
}

func oaStoredLink(t *testing.T, w *oaWorld) replenish.Link {
	t.Helper()
	var l replenish.Link
	err := w.e.Store.Read(context.Background(), func(tx storage.Tx) error {
		var err error
		l, err = tx.Link(context.Background(), w.c.CustomerID, w.v.VendorCode)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// oaWantState requires a 400 page whose message names the state's problem.
func oaWantState(t *testing.T, p page, problem string) {
	t.Helper()
	if p.status != http.StatusBadRequest || p.title != "This link cannot be used" ||
		!strings.Contains(p.message, "state is "+problem) || !strings.Contains(p.next, "Start linking again") {
		t.Errorf("callback page %+v, want 400 saying the state is %s", p, problem)
	}
}

func TestLinkOAuthState(t *testing.T) {
	w := oaNew(t)
	back := w.authorize(t, w.start(t), "bob", "allow")
	u, _ := url.Parse(back)
	code := u.Query().Get("code")

	t.Run("missing", func(t *testing.T) {
		oaWantState(t, callback(t, w.e.URL+linking.CallbackPath+"?code="+url.QueryEscape(code)), "missing")
		oaWantState(t, callback(t, w.e.URL+linking.CallbackPath), "missing")
	})
	t.Run("unknown", func(t *testing.T) {
		oaWantState(t, callback(t, w.e.URL+linking.CallbackPath+"?state=st_forged&code="+url.QueryEscape(code)), "unknown")
	})
	lkNoEndpoints(t, w.e, w.c)
	// The refusals spent neither the state nor the code.
	if p := callback(t, back); p.status != http.StatusOK || p.message != "2 devices found." {
		t.Fatalf("callback page %+v, want 200 linked with 2 devices", p)
	}
	if n := len(gwEndpoints(t, w.e, w.c)); n != oaPrinters {
		t.Fatalf("%d endpoints, want %d", n, oaPrinters)
	}
	t.Run("reused", func(t *testing.T) {
		calls := len(w.cloud.Accounts())
		oaWantState(t, callback(t, back), "already used")
		if n := len(w.cloud.Accounts()); n != calls {
			t.Errorf("a reused state reached the vendor: %d accounts, want %d", n, calls)
		}
	})
	t.Run("expired", func(t *testing.T) {
		auth := w.start(t)
		w.e.clock.Advance(linking.StateLifetime)
		oaWantState(t, callback(t, w.authorize(t, auth, "bob", "allow")), "expired")
	})
	if l := oaStoredLink(t, w); l.Status != replenish.LinkLinked {
		t.Errorf("link %+v after the refusals, want it still LINKED", l)
	}
}

// oaSimToken posts form to the simulator's token endpoint.
func (w *oaWorld) simToken(t *testing.T, form url.Values) (int, gwOAuth) {
	t.Helper()
	resp, err := http.PostForm(w.cloudURL+simulator.TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gwOAuth
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// TestSimulatorTokenEndpoint: the simulator's authorization server holds
// Replenish to OAuth's rules, so that the tests above prove Replenish
// follows them. Its client credentials are read from Replenish's own
// vendor settings, as Replenish would present them.
func TestSimulatorTokenEndpoint(t *testing.T) {
	w := oaNew(t)
	verifier := replenish.NewID("", 64)
	issue := func() string {
		t.Helper()
		auth := w.start(t)
		q := auth.Query()
		q.Set("code_challenge", linking.Challenge(verifier))
		auth.RawQuery = q.Encode()
		u, _ := url.Parse(w.authorize(t, auth, "carol", "allow"))
		return u.Query().Get("code")
	}
	var settings replenish.VendorSettings
	err := w.e.Store.Read(context.Background(), func(tx storage.Tx) error {
		v, err := tx.Vendor(context.Background(), w.v.VendorCode)
		settings = v.Settings
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	redirect := w.e.URL + linking.CallbackPath
	form := func(code string, change ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"code_verifier": {verifier}, "client_id": {settings.OAuthClientID}, "client_secret": {settings.OAuthClientSecret}}
		for i := 0; i < len(change); i += 2 {
			f.Set(change[i], change[i+1])
		}
		return f
	}
	for _, c := range []struct {
		name   string
		change []string
		status int
		err    string
	}{
		{"other verifier", []string{"code_verifier", replenish.NewID("", 64)}, 400, linking.ErrInvalidGrant},
		{"no verifier", []string{"code_verifier", ""}, 400, linking.ErrInvalidGrant},
		{"the challenge as verifier", []string{"code_verifier", linking.Challenge(verifier)}, 400, linking.ErrInvalidGrant},
		{"other redirect_uri", []string{"redirect_uri", "https://evil.example/link/callback"}, 400, linking.ErrInvalidGrant},
		{"wrong client secret", []string{"client_secret", "nope"}, 401, linking.ErrInvalidClient},
	} {
		t.Run(c.name, func(t *testing.T) {
			code := issue()
			status, out := w.simToken(t, form(code, c.change...))
			if status != c.status || out.Error != c.err || out.AccessToken != "" {
				t.Errorf("%d %+v, want %d %s", status, out, c.status, c.err)
			}
		})
	}
	code := issue()
	status, tok := w.simToken(t, form(code))
	if status != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("the right verifier: %d %+v, want 200 with tokens", status, tok)
	}
	if status, out := w.simToken(t, form(code)); status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("the code a second time: %d %+v, want 400 invalid_grant", status, out)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {settings.OAuthClientID}, "client_secret": {settings.OAuthClientSecret}}
	status, fresh := w.simToken(t, refresh)
	if status != http.StatusOK || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %d %+v, want 200 with new tokens", status, fresh)
	}
	if status, out := w.simToken(t, refresh); status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("a rotated refresh token again: %d %+v, want 400 invalid_grant", status, out)
	}
}

// TestLinkOAuthPKCEMismatch: a code issued for another sign-in's challenge
// (one an attacker started, say) is refused by the vendor when Replenish
// presents its own verifier, and nothing is linked.
func TestLinkOAuthPKCEMismatch(t *testing.T) {
	w := oaNew(t)
	victim := w.start(t)
	attacker := w.start(t)
	codeBack, _ := url.Parse(w.authorize(t, attacker, "mallory", "allow"))
	forged := w.e.URL + linking.CallbackPath + "?" + url.Values{"state": {victim.Query().Get("state")},
		"code": {codeBack.Query().Get("code")}}.Encode()
	p := callback(t, forged)
	if p.status != http.StatusBadGateway || !strings.HasPrefix(p.title, "Linking with") ||
		!strings.Contains(p.message, "invalid_grant") || !strings.Contains(p.message, "code_verifier") {
		t.Fatalf("callback page %+v, want 502 saying the vendor refused the code", p)
	}
	lkNoEndpoints(t, w.e, w.c)
	if n := len(w.cloud.Accounts()); n != 0 {
		t.Errorf("the vendor got %d AcceptGrant, want none", n)
	}
}

// oaSettings are the vendor settings the tests change; the client secret
// is not read back and stays as it is when not sent.
type oaSettings struct {
	SkillEndpointURL      string `json:"skillEndpointUrl"`
	OAuthAuthorizationURL string `json:"oauthAuthorizationUrl"`
	OAuthTokenURL         string `json:"oauthTokenUrl"`
	OAuthClientID         string `json:"oauthClientId"`
}

func (w *oaWorld) settings(t *testing.T) oaSettings {
	t.Helper()
	var v oaSettings
	w.e.must(http.StatusOK, "GET", "/api/v1/vendor", w.v.APIKey, nil, &v)
	return v
}

// TestLinkOAuthVendorDown: the vendor's token URL does not answer. The
// customer gets a page that says so and what to do; once the vendor is
// back, starting again links.
func TestLinkOAuthVendorDown(t *testing.T) {
	w := oaNew(t)
	v := w.settings(t)
	working := v.OAuthTokenURL
	v.OAuthTokenURL = lkClosedURL(t) + "/oauth/token"
	w.e.must(http.StatusOK, "PUT", "/api/v1/vendor", w.v.APIKey, v, nil)

	p := callback(t, w.authorize(t, w.start(t), "dave", "allow"))
	if p.status != http.StatusBadGateway || !strings.HasPrefix(p.title, "Linking with Simulated Printers") ||
		!strings.Contains(p.message, "did not answer") || !strings.Contains(p.next, "Try again") {
		t.Fatalf("callback page %+v, want 502 saying the vendor did not answer and what to do", p)
	}
	lkNoEndpoints(t, w.e, w.c)

	v.OAuthTokenURL = working
	w.e.must(http.StatusOK, "PUT", "/api/v1/vendor", w.v.APIKey, v, nil)
	if p := w.link(t, "dave"); p.message != "2 devices found." {
		t.Errorf("link after the vendor came back: %+v", p)
	}
}

// TestLinkOAuthSkillDown: the sign-in works but the skill endpoint is
// down for AcceptGrant: the page says linking failed, never blank.
func TestLinkOAuthSkillDown(t *testing.T) {
	w := oaNew(t)
	v := w.settings(t)
	v.SkillEndpointURL = lkClosedURL(t)
	w.e.must(http.StatusOK, "PUT", "/api/v1/vendor", w.v.APIKey, v, nil)
	p := callback(t, w.authorize(t, w.start(t), "erin", "allow"))
	if p.status != http.StatusBadGateway || !strings.Contains(p.message, "skill endpoint") || !strings.Contains(p.next, "Try again") {
		t.Fatalf("callback page %+v, want 502 saying the skill endpoint failed", p)
	}
	lkNoEndpoints(t, w.e, w.c)
	if l := oaStoredLink(t, w); l.Status != replenish.LinkFailed {
		t.Errorf("link %+v, want FAILED", l)
	}
}

func TestLinkOAuthDeclined(t *testing.T) {
	w := oaNew(t)
	back := w.authorize(t, w.start(t), "frank", "deny")
	if u, _ := url.Parse(back); u.Query().Get("error") != "access_denied" || u.Query().Get("code") != "" {
		t.Fatalf("deny sends the browser to %s, want error=access_denied", back)
	}
	p := callback(t, back)
	if p.status != http.StatusOK || p.title != "Not linked" || !strings.Contains(p.message, "You chose not to") ||
		!strings.Contains(p.message, "Nothing was changed") {
		t.Fatalf("callback page %+v, want 200 saying the customer declined", p)
	}
	lkNoEndpoints(t, w.e, w.c)
	if n := len(w.cloud.Accounts()); n != 0 {
		t.Errorf("the vendor got %d AcceptGrant after a refusal, want none", n)
	}
	// The declined sign-in's state is spent.
	oaWantState(t, callback(t, back), "already used")
	// Declining a relink leaves the link alone.
	w.link(t, "frank")
	if p := callback(t, w.authorize(t, w.start(t), "frank", "deny")); p.title != "Not linked" {
		t.Fatalf("declined relink page %+v", p)
	}
	for _, status := range w.report(t) {
		if status != http.StatusAccepted {
			t.Errorf("report after a declined relink: %d, want 202", status)
		}
	}
}

// TestLinkOAuthRelink: unlinking stops the vendor's events; signing in
// again as the same vendor account finds the same printers, and events
// flow again.
func TestLinkOAuthRelink(t *testing.T) {
	w := oaNew(t)
	w.link(t, "grace")
	first := gwEndpoints(t, w.e, w.c)
	w.e.must(http.StatusNoContent, "DELETE", "/api/v1/links/"+w.v.VendorCode, w.c.APIKey, nil, nil)
	if l := oaStoredLink(t, w); l.Status != replenish.LinkUnlinked || l.GranteeToken != "" || l.GranteeRefresh != "" {
		t.Errorf("link after unlinking %+v, want UNLINKED without the vendor's tokens", l)
	}
	a := w.cloud.Accounts()[0]
	status, err := w.cloud.Report(context.Background(), a, a.Devices[0], replenish.NewUUID(), time.Now())
	if status != http.StatusForbidden || err == nil || !strings.Contains(err.Error(), "SKILL_DISABLED_EXCEPTION") {
		t.Fatalf("report after unlinking: %d %v, want 403 SKILL_DISABLED_EXCEPTION", status, err)
	}

	w.link(t, "grace")
	if n := len(w.cloud.Accounts()); n != 1 {
		t.Errorf("the simulated cloud has %d accounts after the relink, want the one", n)
	}
	again := gwEndpoints(t, w.e, w.c)
	if len(again) != len(first) || again[0].EndpointID != first[0].EndpointID {
		t.Errorf("endpoints after the relink %+v, want the same as before %+v", again, first)
	}
	for _, status := range w.report(t) {
		if status != http.StatusAccepted {
			t.Errorf("report after the relink: %d, want 202", status)
		}
	}
}

// TestLinkOAuthRefresh: once the vendor's access token is about to
// expire, asking for the grantee token refreshes it at the vendor, and
// the vendor's refresh token rotates.
func TestLinkOAuthRefresh(t *testing.T) {
	w := oaNew(t)
	w.link(t, "heidi")
	ctx := context.Background()
	before := oaStoredLink(t, w)
	w.e.clock.Advance(simulator.OAuthAccessLifetime - 2*time.Minute)
	tok, err := w.e.Server.Linking.GranteeToken(ctx, w.c.CustomerID, w.v.VendorCode)
	if err != nil || tok != before.GranteeToken {
		t.Fatalf("grantee token with two minutes left: %q %v, want the same %q", tok, err, before.GranteeToken)
	}
	w.e.clock.Advance(90 * time.Second) // within the last minute
	tok, err = w.e.Server.Linking.GranteeToken(ctx, w.c.CustomerID, w.v.VendorCode)
	after := oaStoredLink(t, w)
	if err != nil || tok == before.GranteeToken || tok != after.GranteeToken || after.GranteeRefresh == before.GranteeRefresh ||
		!after.GranteeExpiresAt.Equal(w.e.clock.Now().Add(simulator.OAuthAccessLifetime)) {
		t.Fatalf("grantee token %q (%v), stored %+v, want a new token and refresh token good for an hour", tok, err, after)
	}
	// The old refresh token was spent at the vendor: rotation.
	var settings replenish.VendorSettings
	w.e.Store.Read(ctx, func(tx storage.Tx) error {
		v, err := tx.Vendor(ctx, w.v.VendorCode)
		settings = v.Settings
		return err
	})
	status, out := w.simToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {before.GranteeRefresh},
		"client_id": {settings.OAuthClientID}, "client_secret": {settings.OAuthClientSecret}})
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("the old refresh token at the vendor: %d %+v, want 400 invalid_grant", status, out)
	}
	// Asked again, the fresh token is kept.
	if again, err := w.e.Server.Linking.GranteeToken(ctx, w.c.CustomerID, w.v.VendorCode); err != nil || again != tok {
		t.Errorf("grantee token asked again: %q %v, want %q", again, err, tok)
	}
	// An unlinked customer has no grantee token.
	w.e.must(http.StatusNoContent, "DELETE", "/api/v1/links/"+w.v.VendorCode, w.c.APIKey, nil, nil)
	if _, err := w.e.Server.Linking.GranteeToken(ctx, w.c.CustomerID, w.v.VendorCode); replenish.ErrorCode(err) != replenish.EConflict {
		t.Errorf("grantee token after unlinking: %v, want a conflict", err)
	}
}

// TestLinkOAuthIncomplete: a vendor with an authorization URL but no token
// URL cannot be linked, and says so.
func TestLinkOAuthIncomplete(t *testing.T) {
	w := oaNew(t)
	w.e.must(http.StatusOK, "PUT", "/api/v1/vendor", w.v.APIKey, map[string]string{"skillEndpointUrl": w.cloudURL,
		"oauthAuthorizationUrl": w.cloudURL + simulator.AuthorizePath}, nil)
	ae := w.e.refused(http.StatusConflict, replenish.EConflict, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if !strings.Contains(ae.Error.Message, "token URL") {
		t.Errorf("message %q does not say what is missing", ae.Error.Message)
	}
}

// TestLinkOAuthCallbackTwiceAtOnce: a browser that sends the callback
// several times at once (a double click, a reload) links once; the other
// requests are told the sign-in was already used.
func TestLinkOAuthCallbackTwiceAtOnce(t *testing.T) {
	w := oaNew(t)
	back := w.authorize(t, w.start(t), "judy", "allow")
	const n = 4
	pages := make(chan page, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(back)
			if err != nil {
				pages <- page{}
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			m := oaTitle.FindStringSubmatch(string(raw))
			p := page{status: resp.StatusCode}
			if m != nil {
				p.title = html.UnescapeString(m[1])
			}
			pages <- p
		})
	}
	wg.Wait()
	close(pages)
	linked, used := 0, 0
	for p := range pages {
		switch {
		case p.status == http.StatusOK && strings.HasPrefix(p.title, "Linked with"):
			linked++
		case p.status == http.StatusBadRequest && p.title == "This link cannot be used":
			used++
		default:
			t.Errorf("unexpected page %+v", p)
		}
	}
	if linked != 1 || used != n-1 {
		t.Errorf("%d linked pages and %d refusals, want 1 and %d", linked, used, n-1)
	}
	if accounts := len(w.cloud.Accounts()); accounts != 1 {
		t.Errorf("the vendor got %d accounts, want 1", accounts)
	}
	if es := gwEndpoints(t, w.e, w.c); len(es) != oaPrinters {
		t.Errorf("%d endpoints, want %d", len(es), oaPrinters)
	}
}
