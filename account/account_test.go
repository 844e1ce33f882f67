package account_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSignedOutGoesToSignInAndBack: a page asked for while signed out
// leads to sign-in, then back to that page; a return path to another
// site is dropped; the session cookie is HttpOnly and SameSite=Lax;
// signing out ends it.
func TestSignedOutGoesToSignInAndBack(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Ada")
	target := w.page("settings", exitAllowed)

	anon := &customer{t: t, w: w, http: newClient(t)}
	resp, err := anon.http.Get(w.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != "/account/sign-in?next="+url.QueryEscape(target) {
		t.Fatalf("signed out: %d to %q, want 303 to the sign-in page coming back to %s", resp.StatusCode, loc, target)
	}
	status, body := anon.get(loc)
	if status != http.StatusOK || !strings.Contains(body, `name="next" value="`+strings.ReplaceAll(target, "&", "&amp;")+`"`) {
		t.Fatalf("sign-in page %d does not carry the page to come back to: %s", status, body)
	}
	status, next, body := anon.post("/account/sign-in", url.Values{"email": {c.Email}, "password": {c.Secret}, "next": {target}})
	if status != http.StatusSeeOther || next != target {
		t.Fatalf("sign-in: %d to %q, want 303 back to %s: %s", status, next, target, body)
	}
	cookie := resp.Request.URL
	_ = cookie
	for _, ck := range anon.http.Jar.Cookies(mustURL(t, w.URL)) {
		if ck.Name == "replenish_customer" && ck.Value == "" {
			t.Error("the session cookie is empty")
		}
	}
	if status, _ := anon.get(target); status != http.StatusOK {
		t.Errorf("the page after sign-in: %d, want 200", status)
	}

	for _, evil := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		o := &customer{t: t, w: w, http: newClient(t)}
		status, next, _ := o.post("/account/sign-in", url.Values{"email": {c.Email}, "password": {c.Secret}, "next": {evil}})
		if status != http.StatusSeeOther || !strings.HasPrefix(next, "/account/") {
			t.Errorf("sign-in with next=%q: %d to %q, want this site's home", evil, status, next)
		}
	}

	if status, next, _ := anon.post("/account/sign-out", nil); status != http.StatusSeeOther || next != "/account/sign-in" {
		t.Errorf("sign-out: %d to %q", status, next)
	}
	if status, _ := anon.get(target); status != http.StatusSeeOther {
		t.Errorf("the page after sign-out: %d, want a redirect to sign-in", status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSessionCookie: HttpOnly, SameSite=Lax, Path=/.
func TestSessionCookie(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Bo")
	o := &customer{t: t, w: w, http: newClient(t)}
	resp, err := o.http.PostForm(w.URL+"/account/sign-in", url.Values{"email": {c.Email}, "password": {c.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"replenish_customer=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain http to a plain http base URL", set)
	}
}

// TestSignInFormsKeepWhatWasTyped: a refused sign-up names each field and
// keeps what was typed, but never the password; a wrong password is 401;
// the sixth attempt is refused whatever the password.
func TestSignInFormsKeepWhatWasTyped(t *testing.T) {
	w := newWorld(t, false)
	o := &customer{t: t, w: w, http: newClient(t)}
	status, _, body := o.post("/account/sign-up", url.Values{"name": {"Cy"}, "email": {"not-an-address"},
		"password": {"short"}, "marketplace": {"UK"}})
	if status != http.StatusBadRequest {
		t.Fatalf("bad sign-up: %d, want 400", status)
	}
	for _, want := range []string{`id="email-error"`, `id="password-error"`, `value="not-an-address"`, `value="Cy"`,
		`<option value="UK" selected>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused sign-up page lacks %s", want)
		}
	}
	if strings.Contains(body, `value="short"`) {
		t.Error("the refused sign-up shows the password again")
	}
	c := w.signUp("Dee")
	for i := range 5 {
		status, _, body := o.post("/account/sign-in", url.Values{"email": {c.Email}, "password": {"wrong password!"}})
		if status != http.StatusUnauthorized || !strings.Contains(body, `id="password-error"`) || !strings.Contains(body, `value="`+c.Email+`"`) {
			t.Fatalf("wrong password %d: %d, want 401 with the message by the field and the e-mail kept", i+1, status)
		}
	}
	status, _, body = o.post("/account/sign-in", url.Values{"email": {c.Email}, "password": {c.Secret}})
	if status != http.StatusTooManyRequests || !strings.Contains(body, "too many failed attempts") {
		t.Errorf("the right password after 5 failures: %d, want 429 saying why", status)
	}
}
