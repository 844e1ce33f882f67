package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"replenish"
	"replenish/gateway"
)

// FuzzParse: whatever a vendor's cloud sends, Parse neither panics nor
// accepts a sample time outside the accepted window, and every refusal
// names the field at fault.
func FuzzParse(f *testing.F) {
	for _, m := range []obj{changeReport(), addOrUpdateReport()} {
		f.Add(string(encode(nil, m)))
	}
	for _, s := range []string{
		`{"event":{"header":{"namespace":"Alexa","name":"ErrorResponse","payloadVersion":"3","messageId":"m-1"},` +
			`"endpoint":{"endpointId":"printer-1"},"payload":{"type":"ENDPOINT_UNREACHABLE","message":"off"}}}`,
		`{"event":{"header":{"namespace":"Alexa.InventoryUsageSensor","name":"InventoryConsumed","instance":"Pods",` +
			`"payloadVersion":"3","messageId":"m-2"},"endpoint":{"endpointId":"coffee-1"},` +
			`"payload":{"usage":{"@type":"Count","value":2},"timeOfSample":"2026-11-22T09:58:00Z"}}}`,
		`{"event":{"header":{"namespace":"Alexa.Discovery","name":"DeleteReport","payloadVersion":"3","messageId":"m-3"},` +
			`"payload":{"endpoints":[{"endpointId":"printer-1"}],"scope":{"type":"BearerToken","token":"t"}}}}`,
		`{"event":{"header":`, `[]`, `{}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := gateway.Parse([]byte(body), now)
		if err != nil {
			var e *replenish.Error
			if !errors.As(err, &e) || len(e.Fields) == 0 {
				t.Fatalf("a refusal without a field: %v", err)
			}
			for field := range e.Fields {
				if field == "" || strings.ContainsAny(field, " \n") {
					t.Fatalf("refusal names field %q", field)
				}
			}
			return
		}
		for _, l := range r.Levels {
			if l.SampleAt.Before(replenish.Earliest) || l.SampleAt.Sub(now) > gateway.MaxFuture {
				t.Fatalf("accepted a sample at %v", l.SampleAt)
			}
		}
	})
}
