package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"replenish/signing"
	"slices"
	"strings"
	"sync"
	"time"

	"replenish"
)

// directive is what a test skill endpoint reads of a directive.
type directive struct {
	Namespace, Name, CorrelationToken string
	Code                              string // payload.grant.code of an AcceptGrant
	// EndpointID and ScopeToken are the endpoint of a directive about one
	// (ReportState) and its scope's token.
	EndpointID, ScopeToken string
	// Cookie is the endpoint's cookie, as sent.
	Cookie string
}

// skill is a skill endpoint whose answers each test chooses. It checks
// every directive's signature against Replenish's clock, records what it
// got, and calls answer with mu held, so answer may update the skill.
type skill struct {
	URL    string
	now    func() time.Time
	secret string
	answer func(s *skill, d directive) (status int, body string)

	mu      sync.Mutex
	calls   []string    // namespace/name of each well-signed directive
	codes   []string    // the code of each AcceptGrant
	badSigs int         // directives whose signature did not verify
	tokens  []gwOAuth   // tokens answer got for itself
	errs    []string    // what went wrong inside answer
	states  []directive // ReportState directives, recorded by answer
}

func (s *skill) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := signing.Verify(s.secret, r.Header.Get(signing.Header), body, s.now()); err != nil {
		s.badSigs++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var msg struct {
		Directive struct {
			Header struct {
				Namespace, Name, CorrelationToken string
			}
			Endpoint struct {
				EndpointID string
				Scope      struct{ Token string }
				Cookie     json.RawMessage
			}
			Payload struct {
				Grant struct{ Code string }
			}
		}
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, "not a directive", http.StatusBadRequest)
		return
	}
	h := msg.Directive.Header
	d := directive{Namespace: h.Namespace, Name: h.Name, CorrelationToken: h.CorrelationToken, Code: msg.Directive.Payload.Grant.Code,
		EndpointID: msg.Directive.Endpoint.EndpointID, ScopeToken: msg.Directive.Endpoint.Scope.Token,
		Cookie: string(msg.Directive.Endpoint.Cookie)}
	s.calls = append(s.calls, d.Namespace+"/"+d.Name)
	if d.Code != "" {
		s.codes = append(s.codes, d.Code)
	}
	status, answer := s.answer(s, d)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// state returns copies of what the skill recorded.
func (s *skill) state() (calls, codes []string, badSigs int, tokens []gwOAuth, errs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls), slices.Clone(s.codes), s.badSigs, slices.Clone(s.tokens), slices.Clone(s.errs)
}

// directiveAnswer is a synchronous answer to directive d.
func directiveAnswer(d directive, namespace, name, payload string) string {
	return fmt.Sprintf(`{"event":{"header":{"namespace":%q,"name":%q,"payloadVersion":"3","messageId":%q,"correlationToken":%q},"payload":%s}}`,
		namespace, name, replenish.NewUUID(), d.CorrelationToken, payload)
}

// workingVendor answers as a working vendor cloud: the grant is accepted and
// discovery finds the given endpoints.
func workingVendor(endpoints ...string) func(*skill, directive) (int, string) {
	return func(_ *skill, d directive) (int, string) {
		switch d.Namespace + "/" + d.Name {
		case "Alexa.Authorization/AcceptGrant":
			return http.StatusOK, directiveAnswer(d, "Alexa.Authorization", "AcceptGrant.Response", `{}`)
		case "Alexa.Discovery/Discover":
			return http.StatusOK, directiveAnswer(d, "Alexa.Discovery", "Discover.Response", `{"endpoints":[`+strings.Join(endpoints, ",")+`]}`)
		}
		return http.StatusBadRequest, `{"error":"unsupported directive"}`
	}
}
