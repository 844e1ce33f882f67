package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/linking"
	"replenish/simulator"
	"replenish/storage"
)

// lkPrinter is the vendor's printer in discovery JSON.
func lkPrinter(v *gwVendor) string {
	return gwEndpointJSON("lk-printer-"+v.VendorCode, v.ModelID, v.Inks)
}

// lkPoint sets the vendor's skill endpoint URL through the vendor API.
func lkPoint(t *testing.T, e *env, v *gwVendor, skillURL string) {
	t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/vendor", v.APIKey, map[string]string{"skillEndpointUrl": skillURL}, nil)
}

// lkServe starts a skill endpoint for v that answers with answer, and
// makes it the vendor's skill endpoint.
func lkServe(t *testing.T, e *env, v *gwVendor, answer func(*skill, directive) (int, string)) *skill {
	t.Helper()
	s := &skill{now: e.clock.Now, secret: v.SigningSecret, answer: answer}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	lkPoint(t, e, v, s.URL)
	return s
}

// lkClosedURL is an http URL on which nothing listens any more.
func lkClosedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// lkLink posts a link request and requires 201 LINKED.
func lkLink(t *testing.T, e *env, c *simulator.Customer, v *gwVendor) replenish.Link {
	t.Helper()
	var l replenish.Link
	e.must(http.StatusCreated, "POST", "/api/v1/links", c.APIKey, map[string]string{"vendorCode": v.VendorCode}, &l)
	if l.Status != replenish.LinkLinked || l.VendorCode != v.VendorCode || l.CustomerID != c.CustomerID {
		t.Fatalf("link %+v, want %s LINKED to %s", l, c.CustomerID, v.VendorCode)
	}
	return l
}

// lkNoEndpoints requires that the customer has no device.
func lkNoEndpoints(t *testing.T, e *env, c *simulator.Customer) {
	t.Helper()
	if es := gwEndpoints(t, e, c); len(es) != 0 {
		t.Fatalf("the customer has %d endpoints after a failed link, want none: %+v", len(es), es)
	}
}

// lkWorld is a vendor whose skill endpoint the test writes, and a customer.
type lkWorld struct {
	e *env
	v *gwVendor
	c *simulator.Customer
}

func lkNew(t *testing.T) *lkWorld {
	t.Helper()
	e := newEnv(t)
	w := &lkWorld{e: e, v: gwRegister(t, e), c: gwCustomer(t, e)}
	gwTestAccount(t, e, w.v.APIKey, w.v.ModelID, w.c)
	return w
}

func TestLinkVendorDown(t *testing.T) {
	w := lkNew(t)
	lkPoint(t, w.e, w.v, lkClosedURL(t))
	ae := w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if !strings.Contains(ae.Error.Message, w.v.VendorCode) {
		t.Errorf("message %q does not name the vendor %s", ae.Error.Message, w.v.VendorCode)
	}
	lkNoEndpoints(t, w.e, w.c)

	// Retrying once the vendor is back up links: nothing of the failed
	// attempt stands in the way.
	s := lkServe(t, w.e, w.v, workingVendor(lkPrinter(w.v)))
	if l := lkLink(t, w.e, w.c, w.v); l.Endpoints != 1 {
		t.Errorf("link after the retry counts %d endpoints, want 1", l.Endpoints)
	}
	_, codes, badSigs, _, _ := s.state()
	if badSigs != 0 || len(codes) != 1 {
		t.Fatalf("skill endpoint: %d bad signatures, %d codes, want 0 and 1", badSigs, len(codes))
	}
	tok := gwExchange(t, w.e, w.v, codes[0])
	gwAccepted(t, w.e, tok.AccessToken, gwChange(replenish.NewUUID(), "lk-printer-"+w.v.VendorCode, tok.AccessToken,
		gwLevel("InkSensor.Black", "50", w.e.clock.Now())))
}

func TestLinkVendorRefusesGrant(t *testing.T) {
	w := lkNew(t)
	s := lkServe(t, w.e, w.v, func(_ *skill, d directive) (int, string) {
		if d.Name == "AcceptGrant" {
			return http.StatusOK, directiveAnswer(d, "Alexa.Authorization", "ErrorResponse",
				`{"type":"ACCEPT_GRANT_FAILED","message":"the customer's account is suspended"}`)
		}
		return workingVendor(lkPrinter(w.v))(nil, d)
	})
	ae := w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if !strings.Contains(ae.Error.Message, w.v.VendorCode) || !strings.Contains(ae.Error.Message, "ACCEPT_GRANT_FAILED") {
		t.Errorf("message %q does not name the vendor %s and ACCEPT_GRANT_FAILED", ae.Error.Message, w.v.VendorCode)
	}
	// A refusal is an answer, not a failure to answer: it is not retried,
	// and without a grant there is nothing to discover.
	if calls, _, badSigs, _, _ := s.state(); badSigs != 0 || !slices.Equal(calls, []string{"Alexa.Authorization/AcceptGrant"}) {
		t.Errorf("skill endpoint got %v (%d bad signatures), want one AcceptGrant", calls, badSigs)
	}
	lkNoEndpoints(t, w.e, w.c)
}

func TestLinkVendorAnswers5xxThenWorks(t *testing.T) {
	w := lkNew(t)
	usual := workingVendor(lkPrinter(w.v))
	s := lkServe(t, w.e, w.v, func(s *skill, d directive) (int, string) {
		if d.Name == "AcceptGrant" && len(s.codes) == 1 {
			return http.StatusServiceUnavailable, `{"message":"busy"}`
		}
		return usual(s, d)
	})
	if l := lkLink(t, w.e, w.c, w.v); l.Endpoints != 1 {
		t.Errorf("link counts %d endpoints, want 1", l.Endpoints)
	}
	calls, codes, badSigs, _, _ := s.state()
	want := []string{"Alexa.Authorization/AcceptGrant", "Alexa.Authorization/AcceptGrant", "Alexa.Discovery/Discover"}
	if badSigs != 0 || !slices.Equal(calls, want) {
		t.Fatalf("skill endpoint got %v (%d bad signatures), want %v", calls, badSigs, want)
	}
	// The retry carries the same code, so a vendor that did get the first
	// attempt holds a code that still works.
	if codes[0] != codes[1] {
		t.Errorf("the retry sent code %q, the first attempt %q", codes[1], codes[0])
	}
	gwExchange(t, w.e, w.v, codes[1])
	if es := gwEndpoints(t, w.e, w.c); len(es) != 1 || es[0].EndpointID != "lk-printer-"+w.v.VendorCode {
		t.Errorf("endpoints %+v, want the discovered printer", es)
	}
}

// TestLinkVendorAlways5xx: a vendor that keeps failing gets the bounded
// number of attempts, and the customer an answer soon.
func TestLinkVendorAlways5xx(t *testing.T) {
	w := lkNew(t)
	s := lkServe(t, w.e, w.v, func(*skill, directive) (int, string) {
		return http.StatusInternalServerError, `{"message":"down"}`
	})
	w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	calls, _, _, _, _ := s.state()
	if len(calls) != 3 || slices.ContainsFunc(calls, func(c string) bool { return c != "Alexa.Authorization/AcceptGrant" }) {
		t.Errorf("skill endpoint got %v, want three AcceptGrant attempts", calls)
	}
	lkNoEndpoints(t, w.e, w.c)
}

func TestLinkNoSkillEndpoint(t *testing.T) {
	w := lkNew(t)
	lkPoint(t, w.e, w.v, "")
	var got struct {
		SkillEndpointURL string `json:"skillEndpointUrl"`
	}
	w.e.must(http.StatusOK, "GET", "/api/v1/vendor", w.v.APIKey, nil, &got)
	if got.SkillEndpointURL != "" {
		t.Fatalf("skillEndpointUrl %q after clearing it", got.SkillEndpointURL)
	}
	ae := w.e.refused(http.StatusConflict, replenish.EConflict, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if !strings.Contains(ae.Error.Message, w.v.VendorCode) {
		t.Errorf("message %q does not name the vendor", ae.Error.Message)
	}
	lkNoEndpoints(t, w.e, w.c)
}

func TestLinkUnknownVendor(t *testing.T) {
	w := lkNew(t)
	w.e.refused(http.StatusNotFound, replenish.ENotFound, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": "no-such-vendor"})
	for _, body := range []any{map[string]string{}, map[string]string{"vendorCode": ""}} {
		ae := w.e.refused(http.StatusBadRequest, replenish.EInvalid, "vendorCode", "POST", "/api/v1/links", w.c.APIKey, body)
		if !strings.Contains(ae.Error.Message, "vendorCode") {
			t.Errorf("message %q does not name vendorCode", ae.Error.Message)
		}
	}
	// Only a customer links their own account: not the vendor, not the operator.
	for name, key := range map[string]string{"vendor": w.v.APIKey, "operator": w.e.OperatorKey} {
		t.Run(name, func(t *testing.T) {
			w.e.refused(http.StatusForbidden, replenish.EForbidden, "", "POST", "/api/v1/links", key,
				map[string]string{"vendorCode": w.v.VendorCode})
		})
	}
	w.e.refused(http.StatusUnauthorized, replenish.EUnauthorized, "", "POST", "/api/v1/links", "",
		map[string]string{"vendorCode": w.v.VendorCode})
	lkNoEndpoints(t, w.e, w.c)
}

// lkExchangeNow is what a vendor's cloud does on AcceptGrant: exchange the
// code at once. It runs on the skill endpoint's goroutine, so it records
// failures instead of failing the test.
func lkExchangeNow(s *skill, baseURL string, v *gwVendor, code string) {
	resp, err := http.PostForm(baseURL+"/auth/o2/token", gwCodeForm(v, code))
	if err != nil {
		s.errs = append(s.errs, err.Error())
		return
	}
	defer resp.Body.Close()
	var tok gwOAuth
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		s.errs = append(s.errs, fmt.Sprintf("exchange: %d %+v %v", resp.StatusCode, tok, err))
		return
	}
	s.tokens = append(s.tokens, tok)
}

func TestLinkDiscoveryRejected(t *testing.T) {
	w := lkNew(t)
	inks := append([]simulator.Ink(nil), w.v.Inks...)
	inks[2].ReplenishmentID = "no-such-replenishment-id"
	bad := gwEndpointJSON("lk-printer-"+w.v.VendorCode, w.v.ModelID, inks)
	var exchange, fixed bool // read and written with the skill's mu held
	s := lkServe(t, w.e, w.v, func(s *skill, d directive) (int, string) {
		if d.Name == "AcceptGrant" && exchange {
			lkExchangeNow(s, w.e.URL, w.v, d.Code)
		}
		if fixed {
			return workingVendor(lkPrinter(w.v))(s, d)
		}
		return workingVendor(bad)(s, d)
	})
	s.mu.Lock()
	exchange = true
	s.mu.Unlock()

	// The vendor's cloud is at fault, not the customer's request: 502,
	// naming the vendor's field so that its makers can mend it.
	ae := w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if !strings.Contains(ae.Error.Message, "capabilities[2].configuration.replenishment") {
		t.Errorf("message %q does not name the capability", ae.Error.Message)
	}
	lkNoEndpoints(t, w.e, w.c)
	calls, codes, badSigs, tokens, errs := s.state()
	if badSigs != 0 || len(errs) != 0 || len(tokens) != 1 || len(codes) != 1 {
		t.Fatalf("skill endpoint: calls %v, %d bad signatures, errors %v, %d tokens", calls, badSigs, errs, len(tokens))
	}
	// The tokens the vendor got during the failed link are revoked.
	gwRefused(t, w.e, w.c, tokens[0].AccessToken, gwChange(replenish.NewUUID(), "lk-printer-"+w.v.VendorCode, tokens[0].AccessToken,
		gwLevel("InkSensor.Black", "50", w.e.clock.Now())), http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")
	status, out := gwTokenPost(t, w.e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens[0].RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("refresh token of the failed link: %d %+v, want 400 invalid_grant", status, out)
	}

	// A code the vendor did not exchange before the link failed is void.
	s.mu.Lock()
	exchange = false
	s.mu.Unlock()
	w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	_, codes, _, _, _ = s.state()
	if len(codes) != 2 || codes[1] == codes[0] {
		t.Fatalf("codes %v, want a new one for the second link", codes)
	}
	status, out = gwTokenPost(t, w.e, gwCodeForm(w.v, codes[1]), nil)
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("code of a failed link: %d %+v, want 400 invalid_grant", status, out)
	}
	lkNoEndpoints(t, w.e, w.c)

	// Once the vendor's discovery is right, linking works.
	s.mu.Lock()
	fixed = true
	s.mu.Unlock()
	if l := lkLink(t, w.e, w.c, w.v); l.Endpoints != 1 {
		t.Errorf("link counts %d endpoints, want 1", l.Endpoints)
	}
}

func TestLinkUnlinkRelink(t *testing.T) {
	w := gwLinked(t)
	e, old := w.e, w.tok
	gwAccepted(t, e, old.AccessToken, w.black("30"))
	gwWantLevel(t, w, 30)

	e.must(http.StatusNoContent, "DELETE", "/api/v1/links/"+w.v.VendorCode, w.c.APIKey, nil, nil)
	e.clock.Advance(time.Second)
	gwRefused(t, e, w.c, old.AccessToken, w.black("5"), http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")

	l := lkLink(t, e, w.c, w.v)
	if l.Endpoints != 1 {
		t.Errorf("relink counts %d endpoints, want 1", l.Endpoints)
	}
	w.v.skill.mu.Lock()
	code := w.v.skill.codes[len(w.v.skill.codes)-1]
	n := len(w.v.skill.codes)
	w.v.skill.mu.Unlock()
	if n != 2 || code == w.code {
		t.Fatalf("the skill endpoint got %d codes, the last %q, want a second, new code", n, code)
	}
	// The device and its level survived the unlink and the relink.
	gwWantLevel(t, w, 30)

	w.tok = gwExchange(t, e, w.v, code)
	e.clock.Advance(time.Second)
	gwRefused(t, e, w.c, old.AccessToken, gwChange(replenish.NewUUID(), w.ep, old.AccessToken,
		gwLevel("InkSensor.Black", "5", e.clock.Now())), http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")
	gwAccepted(t, e, w.tok.AccessToken, w.black("25"))
	gwWantLevel(t, w, 25)
	if n := len(gwEndpoints(t, e, w.c)); n != 1 {
		t.Errorf("%d endpoints after the relink, want 1", n)
	}
}

func TestShutdownRefusesEvents(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	gwAccepted(t, e, w.tok.AccessToken, w.black("30"))
	before := gwSnapshot(t, e, w.c)

	e.Server.Closing()
	e.clock.Advance(time.Second)
	req, err := http.NewRequest("POST", e.URL+"/v3/events", strings.NewReader(string(w.black("5"))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var x gwException
	if err := json.NewDecoder(resp.Body).Decode(&x); err != nil {
		t.Fatalf("not an exception body: %v", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || x.Payload.Code != "SERVICE_UNAVAILABLE_EXCEPTION" ||
		x.Header.Namespace != "System" || x.Header.Name != "Exception" {
		t.Fatalf("got %d %+v, want 503 SERVICE_UNAVAILABLE_EXCEPTION", resp.StatusCode, x)
	}
	// Retry-After tells the vendor when to come back, in seconds.
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("Retry-After %q, want a positive number of seconds", resp.Header.Get("Retry-After"))
	}
	if after := gwSnapshot(t, e, w.c); after != before {
		t.Errorf("an event refused while shutting down changed what the customer sees:\nbefore %s\nafter  %s", before, after)
	}
	gwWantLevel(t, w, 30)
	// Every event is refused, whatever its token.
	gwRefused(t, e, w.c, "Atza|unknown", w.black("5"), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE_EXCEPTION")
}

// TestLinkFailedRelinkKeepsTokens: a linked customer links again (to find
// new devices, say) while the vendor is down. The failed attempt voids
// its own code, but the link that works must keep working.
func TestLinkFailedRelinkKeepsTokens(t *testing.T) {
	w := gwLinked(t)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("30"))
	lkPoint(t, w.e, w.v, lkClosedURL(t))
	w.e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", w.c.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	w.e.clock.Advance(time.Second)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("25"))
	gwWantLevel(t, w, 25)
}

// TestLinkVendorRevokes: a vendor ends a customer's link from its side;
// its tokens stop working as after the customer's own unlinking.
func TestLinkVendorRevokes(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	gwAccepted(t, e, w.tok.AccessToken, w.black("30"))

	// Only the vendor, and only for a customer it is linked with.
	other := gwRegister(t, e)
	for _, c := range []struct {
		key, customerID string
		status          int
		code            string
	}{
		{w.c.APIKey, w.c.CustomerID, http.StatusForbidden, replenish.EForbidden},
		{e.OperatorKey, w.c.CustomerID, http.StatusForbidden, replenish.EForbidden},
		{other.APIKey, w.c.CustomerID, http.StatusNotFound, replenish.ENotFound},
		{w.v.APIKey, "cu-nosuchcustomer", http.StatusNotFound, replenish.ENotFound},
	} {
		e.refused(c.status, c.code, "", "DELETE", "/api/v1/vendor/links/"+c.customerID, c.key, nil)
	}
	e.clock.Advance(time.Second)
	gwAccepted(t, e, w.tok.AccessToken, w.black("29"))

	e.must(http.StatusNoContent, "DELETE", "/api/v1/vendor/links/"+w.c.CustomerID, w.v.APIKey, nil, nil)
	e.clock.Advance(time.Second)
	gwRefused(t, e, w.c, w.tok.AccessToken, w.black("5"), http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")
	status, out := gwTokenPost(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.tok.RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("refresh after the vendor revoked: %d %+v, want 400 invalid_grant", status, out)
	}
	gwWantLevel(t, w, 29)
	// Revoking twice is as good as once.
	e.must(http.StatusNoContent, "DELETE", "/api/v1/vendor/links/"+w.c.CustomerID, w.v.APIKey, nil, nil)
	// The customer may link again.
	lkLink(t, e, w.c, w.v)
}

// TestLinkRefreshedTokens: an access token from a refresh expires an hour
// after it was issued, like the first; the one it replaced keeps its own
// hour, as Login with Amazon's do, and is then refused too.
func TestLinkRefreshedTokens(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	e.clock.Advance(30 * time.Minute)
	status, fresh := gwTokenPost(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.tok.RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %+v", status, fresh)
	}
	gwAccepted(t, e, w.tok.AccessToken, w.black("40"))
	e.clock.Advance(31 * time.Minute) // the first token is 61 minutes old
	gwRefused(t, e, w.c, w.tok.AccessToken, w.black("39"), http.StatusUnauthorized, "INVALID_ACCESS_TOKEN_EXCEPTION")
	gwAccepted(t, e, fresh.AccessToken, gwChange(replenish.NewUUID(), w.ep, fresh.AccessToken,
		gwLevel("InkSensor.Black", "38", e.clock.Now())))
	e.clock.Advance(30 * time.Minute) // the refreshed token is 61 minutes old
	gwRefused(t, e, w.c, fresh.AccessToken, gwChange(replenish.NewUUID(), w.ep, fresh.AccessToken,
		gwLevel("InkSensor.Black", "37", e.clock.Now())), http.StatusUnauthorized, "INVALID_ACCESS_TOKEN_EXCEPTION")
	gwWantLevel(t, w, 38)
}

// TestLinkCustomerGoesAway: the customer's request ends while the vendor
// is still thinking about AcceptGrant. The attempt is recorded FAILED and
// the code the vendor holds is void, rather than left pending.
func TestLinkCustomerGoesAway(t *testing.T) {
	w := lkNew(t)
	codes := make(chan string, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var d struct {
			Directive struct {
				Payload struct{ Grant struct{ Code string } }
			}
		}
		json.NewDecoder(r.Body).Decode(&d)
		codes <- d.Directive.Payload.Grant.Code
		<-r.Context().Done() // until Replenish gives up
	}))
	t.Cleanup(slow.Close)
	lkPoint(t, w.e, w.v, slow.URL)

	body := strings.NewReader(`{"vendorCode":"` + w.v.VendorCode + `"}`)
	req, _ := http.NewRequest("POST", w.e.URL+"/api/v1/links", body)
	req.Header.Set("Authorization", "Bearer "+w.c.APIKey)
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := impatient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the link answered %d while the vendor hung", resp.StatusCode)
	}
	code := <-codes
	var l replenish.Link
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		err := w.e.Store.Read(context.Background(), func(tx storage.Tx) error {
			var err error
			l, err = tx.Link(context.Background(), w.c.CustomerID, w.v.VendorCode)
			return err
		})
		if err == nil && l.Status != replenish.LinkPending {
			break
		}
	}
	if l.Status != replenish.LinkFailed {
		t.Fatalf("link %+v after the customer went away, want FAILED", l)
	}
	if status, out := gwTokenPost(t, w.e, gwCodeForm(w.v, code), nil); status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("the vendor's code after the failed link: %d %+v, want 400 invalid_grant", status, out)
	}
	lkNoEndpoints(t, w.e, w.c)
}
