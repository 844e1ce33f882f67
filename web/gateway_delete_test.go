package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"replenish"
)

// gwDelete is a DeleteReport of the given endpoint IDs.
func gwDelete(token string, endpointIDs ...string) []byte {
	es := make([]string, len(endpointIDs))
	for i, id := range endpointIDs {
		es[i] = fmt.Sprintf(`{"endpointId":%q}`, id)
	}
	return []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa.Discovery","name":"DeleteReport","payloadVersion":"3","messageId":%q},`+
		`"payload":{"endpoints":[%s],"scope":{"type":"BearerToken","token":%q}}}}`,
		replenish.NewUUID(), strings.Join(es, ","), token))
}

func TestGatewayDeleteReport(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	// The black ink on smart reorder, three low readings: a pending order.
	e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/subscription", w.c.APIKey,
		map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK"}, nil)
	for _, v := range []string{"9", "8", "7"} {
		e.clock.Advance(time.Minute)
		gwAccepted(t, e, tok, w.black(v))
	}
	var orders struct{ Items []replenish.Order }
	e.must(http.StatusOK, "GET", "/api/v1/orders", w.c.APIKey, nil, &orders)
	if len(orders.Items) != 1 || orders.Items[0].Status != replenish.OrderPending {
		t.Fatalf("orders before the delete: %+v, want one PENDING", orders.Items)
	}

	t.Run("refusals", func(t *testing.T) {
		for _, r := range []struct {
			name, naming string
			body         []byte
		}{
			{"no endpoints", "event.payload.endpoints", gwDelete(tok)},
			{"a malformed endpointId", "event.payload.endpoints[0].endpointId", gwDelete(tok, "bad id!")},
			{"an endpoint twice", "event.payload.endpoints[1].endpointId", gwDelete(tok, w.ep, w.ep)},
			{"no scope", "event.payload.scope.token", []byte(strings.Replace(string(gwDelete(tok, w.ep)),
				fmt.Sprintf(`,"scope":{"type":"BearerToken","token":%q}`, tok), "", 1))},
		} {
			t.Run(r.name, func(t *testing.T) {
				x := gwRefused(t, e, w.c, tok, r.body, http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
				if !strings.Contains(x.Payload.Description, r.naming) {
					t.Errorf("description %q does not name %q", x.Payload.Description, r.naming)
				}
			})
		}
	})

	t.Run("another vendor's endpoint", func(t *testing.T) {
		b := gwRegister(t, e)
		bTok := gwExchange(t, e, b, gwLink(t, e, w.c, b))
		gwRefused(t, e, w.c, bTok.AccessToken, gwDelete(bTok.AccessToken, b.endpointID, w.ep),
			http.StatusForbidden, "INSUFFICIENT_PERMISSION_EXCEPTION")
	})

	gwAccepted(t, e, tok, gwDelete(tok, w.ep, "a-device-without-inventory-sensors"))
	for _, ep := range gwEndpoints(t, e, w.c) {
		if ep.EndpointID == w.ep {
			t.Fatalf("the deleted endpoint is still listed: %+v", ep)
		}
	}
	e.must(http.StatusOK, "GET", "/api/v1/orders", w.c.APIKey, nil, &orders)
	if len(orders.Items) != 1 || orders.Items[0].Status != replenish.OrderCancelled {
		t.Fatalf("orders after the delete: %+v, want the pending one CANCELLED", orders.Items)
	}
	if n := gwFeedCount(t, e, w.c.APIKey, replenish.FeedOrderCancelled, "SLOT01"); n != 1 {
		t.Fatalf("%d order-cancelled entries, want 1", n)
	}
	e.clock.Advance(time.Minute)
	gwRefused(t, e, w.c, tok, w.black("50"), http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
	// Deleting it again changes nothing.
	gwAccepted(t, e, tok, gwDelete(tok, w.ep))

	// Discovered again, the device comes back with its history and state.
	gwAccepted(t, e, tok, gwAddOrUpdate(tok, gwEndpointJSON(w.ep, w.v.ModelID, w.v.Inks)))
	s := gwSlot(t, e, w.c, w.ep, "SLOT01")
	if s.Level == nil || s.Level.Value != 7 || s.OpenOrderID != "" || s.Mode != replenish.ModeAuto {
		t.Fatalf("black ink after rediscovery: %+v, want level 7, AUTO, no open order", s)
	}
}
