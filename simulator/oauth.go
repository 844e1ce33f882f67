package simulator

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/linking"
)

// The vendor cloud's OAuth 2.0 authorization server, where customers sign
// in to their (simulated) vendor account to link it with Replenish:
// an authorization page with Allow and Deny, codes bound to a PKCE
// challenge (S256 only), and a token endpoint with refresh-token rotation.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
)

// Lifetimes at the simulated authorization server.
const (
	oauthCodeLifetime = 5 * time.Minute
	// OAuthAccessLifetime is how long the cloud's access tokens, which
	// Replenish uses as grantee tokens, are good for.
	OAuthAccessLifetime = time.Hour
)

// authServer is the state of the authorization server. Its zero value
// has no client and refuses every request.
type authServer struct {
	mu           sync.Mutex
	clientID     string
	clientSecret string
	redirectURI  string
	codes        map[string]oauthCode
	access       map[string]oauthToken // by access token
	refresh      map[string]string     // account by refresh token
}

type oauthCode struct {
	account, redirectURI, challenge string
	expires                         time.Time
}

type oauthToken struct {
	account string
	expires time.Time
}

// RegisterOAuthClient makes Replenish a client of the cloud's
// authorization server: the credentials it presents at the token
// endpoint and the one redirect URI it may use.
func (c *Cloud) RegisterOAuthClient(clientID, clientSecret, redirectURI string) {
	a := &c.oauth
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clientID, a.clientSecret, a.redirectURI = clientID, clientSecret, redirectURI
	a.codes, a.access, a.refresh = map[string]oauthCode{}, map[string]oauthToken{}, map[string]string{}
}

// EnableOAuth makes the cloud at cloudURL sign customers in itself: it
// registers Replenish (at replenishURL) as a client of the cloud's
// authorization server and sets, through the vendor API, the vendor's
// settings: the cloud as skill endpoint, its OAuth URLs and the client
// credentials.
func EnableOAuth(ctx context.Context, api *Client, v *Vendor, cloud *Cloud, cloudURL, replenishURL string) error {
	id, secret := replenish.NewID("replenish-", 12), replenish.NewSecret("simsec_")
	cloud.RegisterOAuthClient(id, secret, strings.TrimSuffix(replenishURL, "/")+linking.CallbackPath)
	return api.Do(ctx, "PUT", "/api/v1/vendor", v.APIKey, map[string]string{"skillEndpointUrl": cloudURL,
		"oauthAuthorizationUrl": cloudURL + AuthorizePath, "oauthTokenUrl": cloudURL + TokenPath,
		"oauthClientId": id, "oauthClientSecret": secret}, nil)
}

// accountKey names the account a grantee token belongs to: the vendor
// account that signed in, when the token is one of the authorization
// server's (those rotate, the account stays), else the token itself.
func (c *Cloud) accountKey(grantee string) string {
	a := &c.oauth
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.access[grantee]; ok && time.Now().Before(t.expires) {
		return "account:" + t.account
	}
	return grantee
}

// serveOAuth answers the authorization server's routes and reports
// whether r was one of them.
func (c *Cloud) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.URL.Path == AuthorizePath && r.Method == http.MethodGet:
		c.oauth.authorizePage(w, r)
	case r.URL.Path == AuthorizePath && r.Method == http.MethodPost:
		c.oauth.decide(w, r)
	case r.URL.Path == TokenPath && r.Method == http.MethodPost:
		c.oauth.token(w, r)
	default:
		return false
	}
	return true
}

var authorizeTmpl = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulated Printers: sign in</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:28rem;padding:0 1rem}
label,input,button{display:block;font-size:1.1rem;margin:.5rem 0}input{padding:.4rem;width:100%;box-sizing:border-box}
button{padding:.6rem 1.2rem;width:100%}#allow{background:#0a6;color:#fff;border:0}</style></head>
<body>
{{if .Problem}}<h1>This sign-in cannot go on</h1><p id="problem">{{.Problem}}</p>{{else}}
<h1>Simulated Printers</h1>
<p id="ask">Replenish asks to see your printers' supply levels and to be told about your printers.</p>
<form method="post" action="{{.Action}}">
<label for="account">Your Simulated Printers account</label>
<input id="account" name="account" value="{{.Account}}" required>
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button id="allow" name="decision" value="allow">Allow</button>
<button id="deny" name="decision" value="deny">Deny</button>
</form>{{end}}
</body></html>
`))

// authorizeParams are the request parameters the page keeps in its form.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"}

// check validates an authorization request. Until client_id and
// redirect_uri are known good, nothing may be redirected (RFC 6749,
// section 4.1.2.1): the problem is shown on the page instead.
func (a *authServer) check(q url.Values) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.clientID == "" || q.Get("client_id") != a.clientID:
		return "Unknown client_id."
	case q.Get("redirect_uri") != a.redirectURI:
		return "redirect_uri is not the one registered for this client."
	case q.Get("response_type") != "code":
		return "response_type must be code."
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		return "A PKCE code_challenge with code_challenge_method S256 is required."
	}
	return ""
}

func (a *authServer) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := struct {
		Problem, Action, Account string
		Hidden                   map[string]string
	}{Problem: a.check(q), Action: AuthorizePath, Account: "customer-" + replenish.NewID("", 6), Hidden: map[string]string{}}
	for _, k := range authorizeParams {
		if v := q.Get(k); v != "" {
			data.Hidden[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if data.Problem != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	authorizeTmpl.Execute(w, data)
}

// decide takes the customer's Allow or Deny and sends the browser back
// to Replenish with a code or access_denied.
func (a *authServer) decide(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := r.PostForm
	if problem := a.check(f); problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {f.Get("state")}}
	if f.Get("decision") != "allow" || f.Get("account") == "" {
		back.Set("error", "access_denied")
		back.Set("error_description", "the customer did not allow access")
	} else {
		code := replenish.NewSecret("simcode_")
		a.mu.Lock()
		a.codes[code] = oauthCode{account: f.Get("account"), redirectURI: f.Get("redirect_uri"),
			challenge: f.Get("code_challenge"), expires: time.Now().Add(oauthCodeLifetime)}
		a.mu.Unlock()
		back.Set("code", code)
	}
	http.Redirect(w, r, f.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
}

// token is the token endpoint: client credentials in the form or by HTTP
// Basic; an authorization code with the redirect URI and PKCE verifier it
// was issued for; or a refresh token, which rotates.
func (a *authServer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := r.PostForm
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	refuse := func(status int, code, description string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(linking.OAuthError{Code: code, Description: description})
	}
	if a.clientID == "" || id != a.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(a.clientSecret)) != 1 {
		refuse(http.StatusUnauthorized, linking.ErrInvalidClient, "unknown client or wrong secret")
		return
	}
	var account string
	switch f.Get("grant_type") {
	case "authorization_code":
		c, ok := a.codes[f.Get("code")]
		delete(a.codes, f.Get("code")) // single-use, even when refused below
		switch {
		case !ok || time.Now().After(c.expires):
			refuse(http.StatusBadRequest, linking.ErrInvalidGrant, "the code is unknown, expired or already used")
			return
		case f.Get("redirect_uri") != c.redirectURI:
			refuse(http.StatusBadRequest, linking.ErrInvalidGrant, "redirect_uri differs from the authorization request's")
			return
		case f.Get("code_verifier") == "" ||
			subtle.ConstantTimeCompare([]byte(linking.Challenge(f.Get("code_verifier"))), []byte(c.challenge)) != 1:
			refuse(http.StatusBadRequest, linking.ErrInvalidGrant, "code_verifier does not match the code_challenge")
			return
		}
		account = c.account
	case "refresh_token":
		var ok bool
		if account, ok = a.refresh[f.Get("refresh_token")]; !ok {
			refuse(http.StatusBadRequest, linking.ErrInvalidGrant, "the refresh token is unknown or already used")
			return
		}
		delete(a.refresh, f.Get("refresh_token"))
	default:
		refuse(http.StatusBadRequest, linking.ErrUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
		return
	}
	out := linking.TokenResponse{AccessToken: replenish.NewSecret("simat_"), RefreshToken: replenish.NewSecret("simrt_"),
		TokenType: "bearer", ExpiresIn: int(OAuthAccessLifetime / time.Second)}
	a.access[out.AccessToken] = oauthToken{account: account, expires: time.Now().Add(OAuthAccessLifetime)}
	a.refresh[out.RefreshToken] = account
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}
