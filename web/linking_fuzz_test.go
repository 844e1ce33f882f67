package web_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"replenish/linking"
)

// oauthErrors are the error codes RFC 6749 (section 5.2) gives a token
// endpoint.
var oauthErrors = []string{linking.ErrInvalidRequest, linking.ErrInvalidClient, linking.ErrInvalidGrant,
	"unauthorized_client", linking.ErrUnsupportedGrantType, "invalid_scope"}

// FuzzOAuth sends any form, with any Authorization header, to the token
// endpoint, and any query to the account-linking callback, through the
// real handler on a real database. The token endpoint answers 200 with
// tokens, or 400 or 401 with an RFC 6749 error and a description; the
// callback answers a page whose title says what happened, 200 or a 4xx.
// Neither answers a 5xx: the fuzzer cannot guess a live state, so no
// callback reaches a vendor, whose failures alone are a 502.
func FuzzOAuth(f *testing.F) {
	// The token endpoint: a vendor's cloud exchanging the code Replenish
	// sent its skill endpoint, and refreshing.
	w := gwSetupIn(f, newEnv(f))
	token := w.e.Server.Handler()
	code := gwCodeForm(w.v, w.code)
	f.Add(false, code.Encode(), "")
	basic := url.Values{"grant_type": {"authorization_code"}, "code": {w.code}}
	f.Add(false, basic.Encode(), "Basic "+base64.StdEncoding.EncodeToString([]byte(w.v.ClientID+":"+w.v.ClientSecret)))
	f.Add(false, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"Atzr|not-a-token"},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}.Encode(), "")
	f.Add(false, "grant_type=client_credentials", "Basic Og==")
	f.Add(false, "%zz", "Bearer x")

	// The callback: a vendor's sign-in page sending the customer back.
	o := oaNew(f)
	callback := o.e.Server.Handler()
	state := o.start(f).Query().Get("state")
	f.Add(true, url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {"the customer said no"}}.Encode(), "")
	f.Add(true, "state=st_unknown&code=x", "")
	f.Add(true, "error=server_error", "")
	f.Add(true, "", "")

	title := regexp.MustCompile(`id="title"[^>]*>([^<]+)<`)
	f.Fuzz(func(t *testing.T, isCallback bool, data, authorization string) {
		rec := httptest.NewRecorder()
		if isCallback {
			req := httptest.NewRequest("GET", linking.CallbackPath, nil)
			req.URL.RawQuery = data
			callback.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
				t.Fatalf("callback with %q: %d\n%s", data, rec.Code, rec.Body)
			}
			if !title.Match(rec.Body.Bytes()) {
				t.Fatalf("callback with %q: %d, a page with no title\n%s", data, rec.Code, rec.Body)
			}
			return
		}
		req := httptest.NewRequest("POST", "/auth/o2/token", strings.NewReader(data))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		token.ServeHTTP(rec, req)
		var out gwOAuth
		var desc struct {
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("token with %q, %q: %d, not JSON: %s", data, authorization, rec.Code, rec.Body)
		}
		json.Unmarshal(rec.Body.Bytes(), &desc)
		switch rec.Code {
		case http.StatusOK:
			if out.AccessToken == "" || out.RefreshToken == "" || out.TokenType == "" || out.ExpiresIn <= 0 {
				t.Fatalf("token with %q: 200 without tokens: %s", data, rec.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
			if !slices.Contains(oauthErrors, out.Error) || desc.Description == "" {
				t.Fatalf("token with %q, %q: %d with error %q, description %q", data, authorization, rec.Code, out.Error, desc.Description)
			}
			if (rec.Code == http.StatusUnauthorized) != (out.Error == linking.ErrInvalidClient) {
				t.Fatalf("token with %q, %q: %d with error %q", data, authorization, rec.Code, out.Error)
			}
		default:
			t.Fatalf("token with %q, %q: %d %s", data, authorization, rec.Code, rec.Body)
		}
	})
}
