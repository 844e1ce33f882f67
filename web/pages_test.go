package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"replenish"
	"replenish/users"
)

// pageClient is a browser-like HTTP client: it keeps cookies and does not
// follow redirects, so that tests see where each answer leads.
func pageClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends a form and returns the answer with its body read.
func post(t *testing.T, c *http.Client, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, c, req)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, c, req)
}

func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func signInForm(email, password string) url.Values {
	return url.Values{"email": {email}, "password": {password}}
}

// TestPagesSession: the session cookie's attributes, its end at expiry and
// at sign-out, and who may see which pages.
func TestPagesSession(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)

	// Signed out, a page leads to the sign-in page, which leads back.
	resp, _ := get(t, c, e.URL+"/console/models")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in?next=%2Fconsole%2Fmodels" {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := signInForm(vendorEmail, vendorPassword)
	form.Set("next", "/console/settings")
	resp, _ = post(t, c, e.URL+"/console/sign-in", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/settings" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "replenish_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure ||
		cookie.MaxAge != int(users.SessionTTL.Seconds()) || cookie.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http, Max-Age of a session", cookie)
	}
	if strings.Contains(cookie.Value, vendorEmail) || len(cookie.Value) < 32 {
		t.Fatalf("session token %q is not an opaque random token", cookie.Value)
	}
	resp, body := get(t, c, e.URL+"/console/settings")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Vendor <code>inkco</code>") {
		t.Fatalf("settings page: %d\n%s", resp.StatusCode, body)
	}

	// A vendor may not see the operator's pages.
	resp, _ = get(t, c, e.URL+"/console/operator/requests")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a vendor on the operator's queue: %d, want 403", resp.StatusCode)
	}

	// The session ends at its expiry.
	e.clock.Advance(users.SessionTTL)
	resp, _ = get(t, c, e.URL+"/console/settings")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/sign-in") {
		t.Fatalf("after the session's expiry: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Signing out ends the session on the server, not only in the browser.
	post(t, c, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	var token string
	for _, ck := range c.Jar.Cookies(mustURL(t, e.URL)) {
		if ck.Name == "replenish_session" {
			token = ck.Value
		}
	}
	resp, _ = post(t, c, e.URL+"/console/sign-out", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in" {
		t.Fatalf("sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	replay := pageClient(t)
	replay.Jar.SetCookies(mustURL(t, e.URL), []*http.Cookie{{Name: "replenish_session", Value: token}})
	resp, _ = get(t, replay, e.URL+"/console/settings")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the token of a signed-out session still opens pages: %d", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPagesSecureCookie: behind an https public URL the cookie is Secure,
// even when TLS ends at a proxy in front.
func TestPagesSecureCookie(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	e.Server.BaseURL = "https://replenish.example"
	resp, _ := post(t, pageClient(t), e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("cookies %+v, want one Secure session cookie", cs)
	}
}

// TestPagesSignInNextStaysHere: the page to return to after signing in
// must be one of the console's, never another site.
func TestPagesSignInNextStaysHere(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/console/\\evil", "/api/v1/vendor"} {
		form := signInForm(vendorEmail, vendorPassword)
		form.Set("next", next)
		resp, _ := post(t, pageClient(t), e.URL+"/console/sign-in", form)
		if got := resp.Header.Get("Location"); got != "/console/models" {
			t.Errorf("next=%q leads to %q, want the vendor's home /console/models", next, got)
		}
	}
}

// TestPagesRefuseCrossSiteForms: a form posted from another site is
// refused before it changes anything, even with a valid session.
func TestPagesRefuseCrossSiteForms(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	form := url.Values{"kind": {"SKILL"}, "name": {"Forged"}, "modelId": {"forged"}}
	resp, body := post(t, c, e.URL+"/console/models", form, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "a form from another site was refused") {
		t.Fatalf("cross-site post: %d\n%s", resp.StatusCode, body)
	}
	if ms, err := e.Server.Console.Models(t.Context(), "inkco"); err != nil || len(ms) != 0 {
		t.Fatalf("the forged form made models %v (%v)", ms, err)
	}
	// The same form from the console itself works.
	resp, _ = post(t, c, e.URL+"/console/models", form, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d", resp.StatusCode)
	}
}

// TestPagesOperatorCreatesVendorWithUser: the operator's form creates a
// vendor and its first user, shows the vendor's secrets once, and the new
// user can sign in; a refused user leaves no vendor behind.
func TestPagesOperatorCreatesVendorWithUser(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))

	bad := url.Values{"vendorCode": {"newco"}, "name": {"New Co"}, "email": {"not-an-address"}, "password": {"long enough password"}}
	resp, body := post(t, c, e.URL+"/console/operator/vendors", bad)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "must be an e-mail address such as jo@example.com") ||
		!strings.Contains(body, `value="newco"`) || strings.Contains(body, "long enough password") {
		t.Fatalf("refused vendor form: %d, want 400 naming the e-mail, keeping the code, not the password\n%s", resp.StatusCode, body)
	}
	if _, err := e.Server.Console.Vendor(t.Context(), "newco"); err == nil {
		t.Fatal("a refused first user left its vendor behind")
	}

	good := url.Values{"vendorCode": {"newco"}, "name": {"New Co"}, "email": {"boss@newco.example"}, "password": {"long enough password"}}
	resp, body = post(t, c, e.URL+"/console/operator/vendors", good)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "rk_v_") || !strings.Contains(body, "not shown again") {
		t.Fatalf("created vendor: %d, want its API key shown once\n%s", resp.StatusCode, body)
	}
	_, body = get(t, c, e.URL+"/console/operator/vendors")
	if strings.Contains(body, "rk_v_") || !strings.Contains(body, "boss@newco.example") {
		t.Fatalf("the vendors page again shows a secret, or not the new user\n%s", body)
	}
	resp, _ = post(t, pageClient(t), e.URL+"/console/sign-in", signInForm("boss@newco.example", "long enough password"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/models" {
		t.Fatalf("the new vendor user signs in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAPIVendorUsers: POST /api/v1/vendors/{vendorCode}/users, the
// operator's way to add a vendor's console user.
func TestAPIVendorUsers(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	path := "/api/v1/vendors/acme/users"
	body := map[string]string{"email": "jo@acme.example", "password": "long enough password"}
	e.refused(http.StatusForbidden, "forbidden", "", "POST", path, key, body)
	e.refused(http.StatusBadRequest, "invalid", "password", "POST", path, e.OperatorKey, map[string]string{"email": "jo@acme.example", "password": "short"})
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/vendors/nobody/users", e.OperatorKey, body)
	if us, _ := e.Server.Users.Users(t.Context(), ""); len(us) != 0 {
		t.Fatalf("refusals made users %v", us)
	}
	var u struct {
		UserID, Email, Role, VendorCode string
	}
	e.must(http.StatusCreated, "POST", path, e.OperatorKey, body, &u)
	if u.Email != "jo@acme.example" || u.Role != "vendor" || u.VendorCode != "acme" || u.UserID == "" {
		t.Fatalf("created %+v", u)
	}
	e.refused(http.StatusConflict, "conflict", "email", "POST", path, e.OperatorKey, body)
}

// TestPagesImageUpload: the image form refuses a file that is not an
// image by the file input, stores nothing, and takes a real one.
func TestPagesImageUpload(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	post(t, c, e.URL+"/console/models", url.Values{"kind": {"SKILL"}, "name": {"Printer"}, "modelId": {"p"}})
	upload := func(name string, data []byte) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("image", name)
		fw.Write(data)
		mw.WriteField("marketplace", "")
		mw.Close()
		req, _ := http.NewRequest("POST", e.URL+"/console/models/p/image", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return send(t, c, req)
	}
	resp, body := upload("printer.png", []byte("not an image at all"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `<p class="field-error">`) || !strings.Contains(body, `id="image-file" name="image" type="file" accept="image/png,image/jpeg,image/gif,image/bmp" class="invalid"`) {
		t.Fatalf("a text file as image: %d, want 400 with the message by the file input\n%s", resp.StatusCode, body)
	}
	if m := serviceModel(t, e, "inkco", "p"); m.Image != nil {
		t.Fatalf("a refused image was stored: %+v", m.Image)
	}
	raw, err := os.ReadFile(whitePNG(t))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = upload("printer.png", raw)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a white PNG: %d", resp.StatusCode)
	}
	if m := serviceModel(t, e, "inkco", "p"); m.Image == nil || m.Image.ContentType != "image/png" {
		t.Fatalf("the image was not stored: %+v", m.Image)
	}
}

// TestPagesVendorSettings: the settings form refuses a bad URL by its
// field and keeps what was typed; new credentials are shown once; a key
// made on the page works on the API until it is revoked there.
func TestPagesVendorSettings(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))

	form := url.Values{"skillEndpointUrl": {"not a url"}, "webhookUrl": {"https://inkco.example/hooks"},
		"allowedExitUris": {"https://inkco.example/app\ninkco://back"}}
	resp, body := post(t, c, e.URL+"/console/settings", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="skillEndpointUrl" name="skillEndpointUrl" value="not a url" class="invalid"`) ||
		!strings.Contains(body, `value="https://inkco.example/hooks"`) || !strings.Contains(body, "inkco://back</textarea>") {
		t.Fatalf("a bad skill URL: %d, want 400 keeping every value\n%s", resp.StatusCode, body)
	}
	if v, _ := e.Server.Console.Vendor(t.Context(), "inkco"); v.Settings.WebhookURL != "" {
		t.Fatalf("a refused form changed the settings: %+v", v.Settings)
	}
	form.Set("skillEndpointUrl", "https://inkco.example/skill")
	if resp, _ = post(t, c, e.URL+"/console/settings", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good settings: %d", resp.StatusCode)
	}
	if v, _ := e.Server.Console.Vendor(t.Context(), "inkco"); v.Settings.SkillEndpointURL != "https://inkco.example/skill" ||
		len(v.Settings.AllowedExitURIs) != 2 {
		t.Fatalf("settings saved as %+v", v.Settings)
	}

	_, body = post(t, c, e.URL+"/console/settings/client-secret", nil)
	if !strings.Contains(body, `id="new-client-secret"`) || !strings.Contains(body, "rcs_") {
		t.Fatalf("rotating shows no new secret\n%s", body)
	}
	_, body = post(t, c, e.URL+"/console/settings/api-keys", nil)
	key := regexp.MustCompile(`rk_v_[a-z2-7]{32}`).FindString(body)
	if key == "" {
		t.Fatalf("creating a key shows none\n%s", body)
	}
	if _, body = get(t, c, e.URL+"/console/settings"); strings.Contains(body, key) || strings.Contains(body, "rcs_") {
		t.Fatal("the settings page shows a secret again")
	}
	e.must(http.StatusOK, "GET", "/api/v1/vendor", key, nil, nil)
	keyID := regexp.MustCompile(`New API key <code class="secret">rk_v_\w+</code> \(ID <code>([^<]+)</code>\)`).FindStringSubmatch(
		func() string { _, b := post(t, c, e.URL+"/console/settings/api-keys", nil); return b }())
	if keyID == nil {
		t.Fatal("a new key's ID is not shown")
	}
	if resp, _ = post(t, c, e.URL+"/console/settings/api-keys/"+keyID[1]+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoking: %d", resp.StatusCode)
	}
	if _, body = get(t, c, e.URL+"/console/settings"); strings.Contains(body, keyID[1]) {
		t.Fatal("a revoked key is still listed")
	}
}

// TestPagesRejectedRequest: the operator's reject form needs a reason,
// keeps the request in the queue when refused, and the vendor's page then
// shows the reason; resubmitting puts it back in the queue.
func TestPagesRejectedRequest(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	ven, op := pageClient(t), pageClient(t)
	post(t, ven, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	post(t, op, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	post(t, ven, e.URL+"/console/models", url.Values{"kind": {"SKILL"}, "name": {"Printer"}, "modelId": {"p"}})
	post(t, ven, e.URL+"/console/models/p/slots/SLOT01/category", url.Values{"category": {"INK"}})
	request := url.Values{"SLOT01.sensorType": {"LEVEL"}, "SLOT01.measurementType": {"Percentage"},
		"SLOT01.description": {"level sensor"}, "action": {"submit"}}
	if resp, _ := post(t, ven, e.URL+"/console/models/p/requests", request); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submitting: %d", resp.StatusCode)
	}
	rq := serviceModel(t, e, "inkco", "p").Slots[0].Request
	if rq == nil || rq.Status != replenish.RequestSubmitted {
		t.Fatalf("request %+v, want SUBMITTED", rq)
	}

	resp, body := post(t, op, e.URL+"/console/operator/requests/"+rq.RequestID+"/reject", url.Values{"reason": {" "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="reject-`+rq.RequestID+`-reason" name="reason" value=" " class="invalid"`) {
		t.Fatalf("a blank reason: %d, want 400 by the reason input\n%s", resp.StatusCode, body)
	}
	if got := serviceModel(t, e, "inkco", "p").Slots[0].Request.Status; got != replenish.RequestSubmitted {
		t.Fatalf("after a refused rejection the request is %s", got)
	}
	resp, _ = post(t, op, e.URL+"/console/operator/requests/"+rq.RequestID+"/reject", url.Values{"reason": {"say which sensor it is"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rejecting: %d", resp.StatusCode)
	}
	_, body = get(t, ven, e.URL+"/console/models/p/requests")
	if !strings.Contains(body, `<strong class="reject-reason">say which sensor it is</strong>`) {
		t.Fatalf("the vendor's page does not show the reason\n%s", body)
	}
	post(t, ven, e.URL+"/console/models/p/requests", request)
	if _, body = get(t, op, e.URL+"/console/operator/requests"); !strings.Contains(body, `id="`+rq.RequestID+`"`) {
		t.Fatal("the resubmitted request is not in the operator's queue")
	}
}

// TestPagesAssignAndChange: the operator assigns a request with a service
// level and later changes its policy on the review page; a level out of
// range is refused next to its field, what was typed kept, and changes
// nothing.
func TestPagesAssignAndChange(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	ven, op := pageClient(t), pageClient(t)
	post(t, ven, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	post(t, op, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	post(t, ven, e.URL+"/console/models", url.Values{"kind": {"SKILL"}, "name": {"Printer"}, "modelId": {"p"}})
	post(t, ven, e.URL+"/console/models/p/slots/SLOT01/category", url.Values{"category": {"INK"}})
	post(t, ven, e.URL+"/console/models/p/requests", url.Values{"SLOT01.sensorType": {"LEVEL"},
		"SLOT01.measurementType": {"Percentage"}, "SLOT01.description": {"level sensor"}, "action": {"submit"}})
	rq := serviceModel(t, e, "inkco", "p").Slots[0].Request
	base := e.URL + "/console/operator/requests/" + rq.RequestID

	resp, _ := post(t, op, base+"/assign", url.Values{"threshold": {"10"}, "policy": {"FORECAST"}, "serviceLevel": {"97,5"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assigning: %d", resp.StatusCode)
	}
	rq = serviceModel(t, e, "inkco", "p").Slots[0].Request
	if rq.ServiceLevel == nil || *rq.ServiceLevel != 97.5 || rq.Policy != replenish.PolicyForecast {
		t.Fatalf("assigned %+v, want FORECAST at 97.5 %%", rq)
	}

	resp, body := post(t, op, base+"/change", url.Values{"threshold": {"10"}, "policy": {"FORECAST"}, "serviceLevel": {"120"}})
	if resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, `id="change-`+rq.RequestID+`-level" name="serviceLevel" inputmode="decimal" value="120" class="invalid"`) ||
		!strings.Contains(body, "between 50 and 99.9") {
		t.Fatalf("a service level of 120: %d, want 400 by the field with 120 kept\n%s", resp.StatusCode, body)
	}
	if got := serviceModel(t, e, "inkco", "p").Slots[0].Request; *got.ServiceLevel != 97.5 {
		t.Fatalf("a refused change changed the level to %g", *got.ServiceLevel)
	}
	resp, _ = post(t, op, base+"/change", url.Values{"threshold": {"15"}, "policy": {"THRESHOLD"}, "serviceLevel": {"90"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("changing: %d", resp.StatusCode)
	}
	got := serviceModel(t, e, "inkco", "p").Slots[0].Request
	if *got.ServiceLevel != 90 || got.Policy != replenish.PolicyThreshold || *got.Threshold != 15 {
		t.Fatalf("changed %+v, want THRESHOLD 15 at 90 %%", got)
	}
	if _, body = get(t, op, e.URL+"/console/operator/requests"); !strings.Contains(body, "≤ 15 THRESHOLD") {
		t.Errorf("the decided list does not show the change\n%s", body)
	}
}
