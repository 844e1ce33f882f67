package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/linking"
	"replenish/simulator"
)

// gwAskState has the customer API ask vendors for stale devices' state,
// as serve wires it.
func gwAskState(e *env) *linking.StateAsker {
	a := linking.NewStateAsker(e.Server.Linking)
	e.Server.Customers.AskStateWith(a, nil, 24*time.Hour)
	return a
}

// reportStates returns the ReportState directives the skill got.
func (s *skill) reportStates() []directive {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.states)
}

// gwOpen is the customer opening their devices; it returns how long the
// answer took.
func gwOpen(t *testing.T, w *gwWorld) time.Duration {
	t.Helper()
	start := time.Now()
	gwEndpoints(t, w.e, w.c)
	return time.Since(start)
}

// gwWaitStates waits until the skill has got n ReportState directives,
// then a little longer to see that no more come.
func gwWaitStates(t *testing.T, s *skill, n int) []directive {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.reportStates()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	got := s.reportStates()
	if len(got) != n {
		t.Fatalf("%d ReportState directives, want %d: %+v", len(got), n, got)
	}
	return got
}

func TestReportStateDirective(t *testing.T) {
	w := gwLinked(t)
	e, s := w.e, w.v.skill
	asker := gwAskState(e)
	t.Cleanup(asker.Wait)
	var grantee string
	s.mu.Lock()
	usual := s.answer
	s.answer = func(s *skill, d directive) (int, string) {
		if d.Namespace+"/"+d.Name != "Alexa/ReportState" {
			return usual(s, d)
		}
		s.states = append(s.states, d)
		return http.StatusOK, directiveAnswer(d, "Alexa", "DeferredResponse", `{"estimatedDeferralInSeconds":1}`)
	}
	s.mu.Unlock()

	// A level of now: nothing to ask.
	gwAccepted(t, e, w.tok.AccessToken, w.black("50"))
	gwOpen(t, w)
	gwWaitStates(t, s, 0)

	// A day and a minute later the level is stale: opening the device asks
	// the vendor, once, for this endpoint, scoped by the customer's grantee token.
	e.clock.Advance(24*time.Hour + time.Minute)
	gwOpen(t, w)
	gwOpen(t, w)
	d := gwWaitStates(t, s, 1)[0]
	if d.EndpointID != w.ep || d.ScopeToken == "" || d.CorrelationToken == "" || d.Cookie != `{"shelf":"kitchen"}` {
		t.Fatalf("ReportState %+v, want endpoint %s with a scope token, a correlation token and discovery's cookie", d, w.ep)
	}
	grantee = d.ScopeToken
	// Not again within the interval.
	e.clock.Advance(linking.ReportStateInterval - time.Minute)
	gwOpen(t, w)
	gwWaitStates(t, s, 1)
	e.clock.Advance(2 * time.Minute)
	gwOpen(t, w)
	if d := gwWaitStates(t, s, 2)[1]; d.EndpointID != w.ep || d.ScopeToken != grantee {
		t.Fatalf("second ReportState %+v, want endpoint %s and the same grantee token", d, w.ep)
	}

	// The vendor answers with a StateReport to the gateway, with a
	// refreshed token, and the level is fresh again.
	status, tok := gwTokenPost(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.tok.RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %+v", status, tok)
	}
	gwAccepted(t, e, tok.AccessToken, []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa","name":"StateReport","payloadVersion":"3",`+
		`"messageId":%q,"correlationToken":%q},"endpoint":{"scope":{"type":"BearerToken","token":%q},"endpointId":%q},"payload":{}},`+
		`"context":{"properties":[%s]}}`, replenish.NewUUID(), d.CorrelationToken, tok.AccessToken, w.ep,
		gwLevel("InkSensor.Black", "47", e.clock.Now()))))
	gwWantLevel(t, w, 47)
	e.clock.Advance(2 * time.Hour)
	gwOpen(t, w)
	gwWaitStates(t, s, 2)
}

func TestReportStateVendorDown(t *testing.T) {
	w := gwLinked(t)
	e, s := w.e, w.v.skill
	asker := gwAskState(e)
	release := make(chan struct{})
	t.Cleanup(func() { close(release); asker.Wait() })
	s.mu.Lock()
	usual := s.answer
	s.answer = func(s *skill, d directive) (int, string) {
		if d.Name != "ReportState" {
			return usual(s, d)
		}
		s.states = append(s.states, d)
		s.mu.Unlock()
		<-release // a vendor that does not answer
		s.mu.Lock()
		return http.StatusServiceUnavailable, `{}`
	}
	s.mu.Unlock()
	// Never reported: stale. The page answers at once all the same.
	if took := gwOpen(t, w); took > time.Second {
		t.Fatalf("opening the devices took %v while the vendor hangs", took)
	}
	gwWaitStates(t, s, 1)
	if took := gwOpen(t, w); took > time.Second {
		t.Fatalf("opening the devices again took %v while the vendor hangs", took)
	}
}

// TestReportStateSimulator: the reference vendor cloud answers ReportState
// with a StateReport to the gateway, so a device never reported shows its
// levels soon after the customer opens it.
func TestReportStateSimulator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hs := httptest.NewUnstartedServer(nil)
	cloudURL := "http://" + hs.Listener.Addr().String()
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.Register(ctx, api, e.OperatorKey, cloudURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	cloud := simulator.NewCloud(simulator.Config{ReplenishURL: e.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, Printers: 1,
		StartMin: 40, StartMax: 90, DrainMin: 5, DrainMax: 10, Rand: rand.New(rand.NewPCG(7, 1)),
		HTTP: &http.Client{Timeout: 10 * time.Second}})
	hs.Config.Handler = cloud
	hs.Start()
	t.Cleanup(hs.Close)
	asker := gwAskState(e)
	t.Cleanup(asker.Wait)
	c, err := simulator.AddCustomer(ctx, api, e.OperatorKey, v, "State Report")
	if err != nil {
		t.Fatal(err)
	}
	d := cloud.Accounts()[0].Devices[0]
	var es struct {
		Items []struct {
			Slots []struct{ Level *struct{ Value float64 } }
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.must(http.StatusOK, "GET", "/api/v1/endpoints", c.APIKey, nil, &es)
		if l := es.Items[0].Slots[0].Level; l != nil {
			if want := float64(int(d.Levels[0] + 0.5)); l.Value != want {
				t.Fatalf("black ink %v after the StateReport, want the device's %v", l.Value, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no level 5 seconds after the customer opened a device that never reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
