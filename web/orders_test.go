package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/orders"
	"replenish/signing"
	"replenish/simulator"
)

// ordWorld is a linked customer of a certified printer, not a test
// account: its orders are real ones, for fulfilment.
func ordWorld(t testing.TB, set func(*orders.Settings)) *gwWorld {
	t.Helper()
	e := newEnvWith(t, set)
	w := gwSetupIn(t, e)
	w.tok = gwExchange(t, e, w.v, w.code)
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	if err := simulator.Certify(context.Background(), api, e.OperatorKey, w.v.Vendor, []string{"US"}); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/v1/models/"+w.v.ModelID+"/marketplaces/US/test-accounts/"+w.c.CustomerID, w.v.APIKey, nil, nil)
	w.subscribe(t, map[string]string{"mode": "AUTO"})
	return w
}

// tick runs the order timers once, as the service does every second.
func (w *gwWorld) tick(t *testing.T) {
	t.Helper()
	if _, err := w.e.Orders.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (w *gwWorld) order(t *testing.T, id string) replenish.Order {
	t.Helper()
	var o replenish.Order
	w.e.must(http.StatusOK, "GET", "/api/v1/orders/"+id, w.c.APIKey, nil, &o)
	return o
}

// onlyOrder requires the customer to have exactly one order, and returns it.
func (w *gwWorld) onlyOrder(t testing.TB) replenish.Order {
	t.Helper()
	os := w.orders(t)
	if len(os) != 1 {
		t.Fatalf("orders = %+v, want one", os)
	}
	return os[0]
}

func steps(o replenish.Order) []string {
	var out []string
	for _, s := range o.Steps {
		out = append(out, s.Status+" by "+s.Actor)
	}
	return out
}

func (w *gwWorld) history(t *testing.T, query string) []replenish.HistoryEntry {
	t.Helper()
	var out struct{ Items []replenish.HistoryEntry }
	w.e.must(http.StatusOK, "GET", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/history"+query, w.c.APIKey, nil, &out)
	return out.Items
}

// TestOrderLifecycle follows a real order from placement to delivery with
// manual fulfilment, timers included, and checks each refused step.
func TestOrderLifecycle(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = 30 * time.Second })
	e, op := w.e, w.e.OperatorKey
	w.lowEpisode(t, "6")
	o := w.onlyOrder(t)
	if o.Status != replenish.OrderPending || o.Test || !o.CancelBy.Equal(o.PlacedAt.Add(30*time.Second)) ||
		o.Price != "19.99" || o.Quantity != 1 || o.ProductID != "SIM-INK-BLACK" {
		t.Fatalf("placed order: %+v, want a real PENDING order cancellable for 30 s", o)
	}
	path := "/api/v1/orders/" + o.OrderID
	if ae := e.refused(http.StatusConflict, replenish.EConflict, "", "POST", path+"/ship", op, nil); !strings.Contains(ae.Error.Message, "PENDING") {
		t.Fatalf("shipping a pending order: %q does not name its state", ae.Error.Message)
	}

	// Not yet released inside the window; released at its end.
	e.clock.Advance(20 * time.Second)
	w.tick(t)
	if got := w.order(t, o.OrderID); got.Status != replenish.OrderPending {
		t.Fatalf("inside the window: %s, want PENDING", got.Status)
	}
	e.clock.Advance(11 * time.Second)
	w.tick(t)
	w.tick(t) // a second pass repeats nothing
	o = w.order(t, o.OrderID)
	if want := []string{"PENDING by service", "RELEASED by service"}; !slices.Equal(steps(o), want) {
		t.Fatalf("after the window: %v, want %v", steps(o), want)
	}
	if ae := e.refused(http.StatusConflict, replenish.EConflict, "", "POST", path+"/cancel", w.c.APIKey, nil); !strings.Contains(ae.Error.Message, "RELEASED") {
		t.Fatalf("a customer cancelling a released order: %q does not name its state", ae.Error.Message)
	}

	// Bad input changes nothing.
	e.refused(http.StatusBadRequest, replenish.EInvalid, "trackingReference", "POST", path+"/ship", op,
		map[string]string{"trackingReference": strings.Repeat("x", 201)})
	e.refused(http.StatusBadRequest, replenish.EInvalid, "carrier", "POST", path+"/ship", op, map[string]string{"carrier": "x"})
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "POST", path+"/ship", w.c.APIKey, nil)
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "POST", path+"/ship", w.v.APIKey, nil)
	if got := w.order(t, o.OrderID); got.Status != replenish.OrderReleased || len(got.Steps) != 2 {
		t.Fatalf("refused requests changed the order: %+v", got)
	}

	// Shipping raises the household inventory by the pack: one cartridge.
	var shipped replenish.Order
	e.must(http.StatusOK, "POST", path+"/ship", op, map[string]string{"trackingReference": "1Z999"}, &shipped)
	e.must(http.StatusOK, "POST", path+"/ship", op, map[string]string{"trackingReference": "1Z999"}, &shipped) // a retry
	if shipped.Status != replenish.OrderShipped || shipped.TrackingReference != "1Z999" || len(shipped.Steps) != 3 {
		t.Fatalf("shipped (twice): %+v", shipped)
	}
	sl := gwSlot(t, e, w.c, w.ep, "SLOT01")
	if sl.HouseholdInventory != (customers.Amount{Value: 1, Unit: "parts"}) || sl.OpenOrderID != o.OrderID {
		t.Fatalf("slot after shipping: household %+v, open order %q; want 1 part, the order", sl.HouseholdInventory, sl.OpenOrderID)
	}
	var delivered replenish.Order
	e.must(http.StatusOK, "POST", path+"/deliver", op, nil, &delivered)
	if want := []string{"PENDING by service", "RELEASED by service", "SHIPPED by operator", "DELIVERED by operator"}; !slices.Equal(steps(delivered), want) {
		t.Fatalf("delivered: %v, want %v", steps(delivered), want)
	}
	if ae := e.refused(http.StatusConflict, replenish.EConflict, "", "POST", path+"/cancel", op, map[string]string{"reason": "late"}); !strings.Contains(ae.Error.Message, "DELIVERED") {
		t.Fatalf("cancelling a delivered order: %q does not name its state", ae.Error.Message)
	}
	if sl := gwSlot(t, e, w.c, w.ep, "SLOT01"); sl.OpenOrderID != "" {
		t.Fatalf("slot after delivery still holds order %q", sl.OpenOrderID)
	}
	types := []string{}
	for _, f := range w.feed(t) {
		types = append(types, f.Type)
	}
	if want := []string{replenish.FeedOrderDelivered, replenish.FeedOrderShipped, replenish.FeedOrderPlaced}; !slices.Equal(types, want) {
		t.Fatalf("feed %v, want %v", types, want)
	}

	// The customer puts the spare in: the refill draws it from home.
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	if sl := gwSlot(t, e, w.c, w.ep, "SLOT01"); sl.HouseholdInventory.Value != 0 || sl.InstalledAt == nil {
		t.Fatalf("after the refill: household %+v, installed %v; want 0 parts and a date", sl.HouseholdInventory, sl.InstalledAt)
	}
	var kinds []string
	for _, h := range w.history(t, "") {
		kinds = append(kinds, h.Type+":"+h.Status+h.Actor)
	}
	for _, want := range []string{"HOUSEHOLD:refill", "HOUSEHOLD:shipment", "ORDER:DELIVEREDoperator", "ORDER:SHIPPEDoperator",
		"ORDER:RELEASEDservice", "ORDER:PENDINGservice", "NOTIFICATION:ORDER_PLACED", "CHANGE:SUBSCRIPTIONcustomer", "READING:"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("history %v lacks %s", kinds, want)
		}
	}
}

// TestOrderUnresolved: a released order that fulfilment does not ship in
// time is cancelled by the service, which says why.
func TestOrderUnresolved(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow, s.UnresolvedAfter = time.Minute, time.Hour })
	w.lowEpisode(t, "6")
	id := w.onlyOrder(t).OrderID
	w.e.clock.Advance(time.Minute)
	w.tick(t)
	w.e.clock.Advance(59 * time.Minute)
	w.tick(t)
	if o := w.order(t, id); o.Status != replenish.OrderReleased {
		t.Fatalf("before the unresolved window ended: %s", o.Status)
	}
	w.e.clock.Advance(time.Minute)
	w.tick(t)
	o := w.order(t, id)
	last := o.Steps[len(o.Steps)-1]
	if o.Status != replenish.OrderCancelled || last.Actor != replenish.ActorService || !strings.Contains(last.Reason, "did not ship") {
		t.Fatalf("after the unresolved window: %+v", o)
	}
	if f := w.feed(t); f[0].Type != replenish.FeedOrderCancelled || !strings.Contains(f[0].Message, "did not ship") {
		t.Fatalf("the customer was not told why: %+v", f[0])
	}
}

// TestOrderSpareAtHome: a low device with spares at home asks the
// customer to use one; with none left, smart reorder orders.
func TestOrderSpareAtHome(t *testing.T) {
	w := ordWorld(t, nil)
	path := "/api/v1/endpoints/" + w.ep + "/slots/SLOT01/household-inventory"
	w.e.must(http.StatusOK, "PUT", path, w.c.APIKey, map[string]any{"delta": 2, "reason": "bought a two-pack"}, nil)
	w.e.must(http.StatusOK, "PUT", path, w.c.APIKey, map[string]any{"delta": -1, "reason": "gave one away"}, nil)
	w.lowEpisode(t, "6")
	if os := w.orders(t); len(os) != 0 {
		t.Fatalf("ordered with a spare at home: %+v", os)
	}
	if f := w.feed(t); len(f) != 1 || !strings.Contains(f[0].Message, "use one") {
		t.Fatalf("feed %+v, want one notice to use a spare", f)
	}
	// Removing more than there is leaves none; then the next low reading orders.
	var ep customers.Endpoint
	w.e.must(http.StatusOK, "PUT", path, w.c.APIKey, map[string]any{"delta": -5, "reason": "it was empty"}, &ep)
	if ep.Slots[0].HouseholdInventory.Value != 0 {
		t.Fatalf("household after removing too many: %+v", ep.Slots[0].HouseholdInventory)
	}
	w.e.clock.Advance(time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("5"))
	if o := w.onlyOrder(t); o.Status != replenish.OrderPending {
		t.Fatalf("no order once the spares were gone: %+v", o)
	}
	// Both at once, or neither, is refused and changes nothing.
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "delta", "PUT", path, w.c.APIKey, map[string]any{"delta": 1, "quantity": 1, "reason": "x"})
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "delta", "PUT", path, w.c.APIKey, map[string]any{"delta": 0.5, "reason": "x"})
	w.e.refused(http.StatusBadRequest, replenish.EInvalid, "quantity", "PUT", path, w.c.APIKey, map[string]any{"reason": "x"})
	if sl := gwSlot(t, w.e, w.c, w.ep, "SLOT01"); sl.HouseholdInventory.Value != 0 {
		t.Fatalf("refused changes moved the household inventory: %+v", sl.HouseholdInventory)
	}
}

// TestOrderCancelledTwice: a second cancellation in a row holds smart
// reorder back until the supply is full again, whatever the cooldown.
func TestOrderCancelledTwice(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelCooldown = time.Hour })
	cancel := func() {
		t.Helper()
		os := w.orders(t)
		w.e.must(http.StatusOK, "POST", "/api/v1/orders/"+os[0].OrderID+"/cancel", w.c.APIKey, nil, nil)
	}
	w.lowEpisode(t, "6")
	cancel()
	w.e.clock.Advance(2 * time.Hour)
	w.refresh(t)
	w.lowEpisode(t, "5")
	if n := len(w.orders(t)); n != 2 {
		t.Fatalf("after the cooldown: %d orders, want 2", n)
	}
	cancel()
	w.e.clock.Advance(2 * time.Hour)
	w.refresh(t)
	w.lowEpisode(t, "4")
	if n := len(w.orders(t)); n != 2 {
		t.Fatalf("after a second cancellation: %d orders, want still 2", n)
	}
	if f := w.feed(t); !strings.Contains(f[0].Message, "full again") {
		t.Fatalf("feed %q: the customer is not told why", f[0].Message)
	}
	// Half full is not full; full is.
	w.e.clock.Advance(time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("50"))
	w.lowEpisode(t, "4")
	if n := len(w.orders(t)); n != 2 {
		t.Fatalf("after a refill to half: %d orders, want still 2", n)
	}
	w.e.clock.Advance(time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "4")
	if n := len(w.orders(t)); n != 3 {
		t.Fatalf("after a refill to full: %d orders, want 3", n)
	}
}

// TestOrderPriceRise: when the price rose more than 10 % since the
// customer chose the product, smart reorder asks before ordering.
func TestOrderPriceRise(t *testing.T) {
	w := ordWorld(t, nil)
	price := func(p string) {
		w.e.must(http.StatusOK, "PUT", "/api/v1/products/SIM-INK-BLACK", w.e.OperatorKey, map[string]any{
			"category": "INK", "packQuantity": 1, "packUnit": "Count",
			"offers": map[string]any{"US": map[string]any{"title": "Black ink", "price": p, "currency": "USD", "available": true}},
		}, nil)
	}
	price("21.98") // 9.96 % more than 19.99: still fine
	price("22.00") // 10.06 % more
	w.lowEpisode(t, "6")
	if os := w.orders(t); len(os) != 0 {
		t.Fatalf("ordered at a price 10 %% higher: %+v", os)
	}
	if f := w.feed(t); len(f) != 1 || !strings.Contains(f[0].Message, "rose from 19.99 to 22.00") {
		t.Fatalf("feed %+v, want one notice of the new price", f)
	}
	// Choosing the product again confirms the price.
	w.subscribe(t, map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK"})
	w.e.clock.Advance(time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("5"))
	if o := w.onlyOrder(t); o.Price != "22.00" {
		t.Fatalf("order after confirming: %+v, want at 22.00", o)
	}
}

// TestTestOrders: a test order never reaches fulfilment: it ships by
// itself at release and is delivered after the lead time; the vendor
// cancels open ones.
func TestTestOrders(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	commerce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		mu.Unlock()
	}))
	t.Cleanup(commerce.Close)
	e := newEnvWith(t, func(s *orders.Settings) {
		s.CancelWindow, s.TestDelivery = time.Minute, time.Hour
		s.Fulfilment = orders.Fulfilment{Adapter: orders.Webhook, URL: commerce.URL, Key: testFulfilmentKey}
	})
	w := gwSetupIn(t, e)
	w.tok = gwExchange(t, e, w.v, w.code)
	w.subscribe(t, map[string]string{"mode": "AUTO"})
	w.lowEpisode(t, "6")
	o := w.onlyOrder(t)
	if !o.Test {
		t.Fatalf("a test account's order is not a test order: %+v", o)
	}
	e.clock.Advance(time.Minute)
	w.tick(t)
	o = w.order(t, o.OrderID)
	if want := []string{"PENDING by service", "RELEASED by service", "SHIPPED by service"}; !slices.Equal(steps(o), want) {
		t.Fatalf("test order at release: %v, want %v", steps(o), want)
	}
	e.clock.Advance(time.Hour)
	w.tick(t)
	if o = w.order(t, o.OrderID); o.Status != replenish.OrderDelivered {
		t.Fatalf("test order after the lead time: %s", o.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if posts != 0 {
		t.Fatalf("a test order reached the commerce system %d times", posts)
	}

	// The vendor cancels an open test order; a vendor's key cannot reach
	// another vendor's orders.
	e.clock.Advance(time.Minute)
	w.refresh(t)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "6")
	var cancelled struct{ Items []replenish.Order }
	e.must(http.StatusOK, "DELETE", "/api/v1/test-orders/slots/SLOT02", w.v.APIKey, nil, &cancelled)
	if len(cancelled.Items) != 0 {
		t.Fatalf("cancelling another slot's test orders cancelled %+v", cancelled.Items)
	}
	e.must(http.StatusOK, "DELETE", "/api/v1/test-orders/slots/SLOT01", w.v.APIKey, nil, &cancelled)
	if len(cancelled.Items) != 1 || cancelled.Items[0].Status != replenish.OrderCancelled {
		t.Fatalf("cancelled %+v, want the open test order", cancelled.Items)
	}
	other := gwRegister(t, e)
	e.refused(http.StatusNotFound, replenish.ENotFound, "", "GET", "/api/v1/orders/"+o.OrderID, other.APIKey, nil)
	var theirs struct{ Items []replenish.Order }
	e.must(http.StatusOK, "GET", "/api/v1/orders", other.APIKey, nil, &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("another vendor sees %d orders", len(theirs.Items))
	}
}

// TestOrderLists: each key sees its own orders, filtered and paged.
func TestOrderLists(t *testing.T) {
	w := ordWorld(t, nil)
	w.lowEpisode(t, "6")
	e := w.e
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+w.onlyOrder(t).OrderID+"/cancel", w.c.APIKey, nil, nil)
	e.clock.Advance(121 * time.Hour)
	w.refresh(t)
	w.lowEpisode(t, "5")
	list := func(key, query string) (ids []string, next string) {
		t.Helper()
		var out struct {
			Items      []replenish.Order
			NextCursor string
		}
		e.must(http.StatusOK, "GET", "/api/v1/orders"+query, key, nil, &out)
		for _, o := range out.Items {
			ids = append(ids, o.Status)
		}
		return ids, out.NextCursor
	}
	for _, c := range []struct {
		name, key, query string
		want             []string
	}{
		{"customer", w.c.APIKey, "", []string{"PENDING", "CANCELLED"}},
		{"vendor", w.v.APIKey, "", []string{"PENDING", "CANCELLED"}},
		{"operator", e.OperatorKey, "?vendorCode=" + w.v.VendorCode, []string{"PENDING", "CANCELLED"}},
		{"operator, another vendor", e.OperatorKey, "?vendorCode=nobody", nil},
		{"status in lower case", w.c.APIKey, "?status=cancelled", []string{"CANCELLED"}},
		{"endpoint", w.c.APIKey, "?endpointId=" + w.ep, []string{"PENDING", "CANCELLED"}},
		{"another endpoint", w.c.APIKey, "?endpointId=nothing", nil},
	} {
		if got, _ := list(c.key, c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	first, next := list(w.c.APIKey, "?limit=1")
	second, last := list(w.c.APIKey, "?limit=1&cursor="+next)
	if !slices.Equal(first, []string{"PENDING"}) || next == "" || !slices.Equal(second, []string{"CANCELLED"}) || last != "" {
		t.Fatalf("pages: %v (next %q), %v (next %q)", first, next, second, last)
	}
	e.refused(http.StatusBadRequest, replenish.EInvalid, "status", "GET", "/api/v1/orders?status=LOST", w.c.APIKey, nil)
	e.refused(http.StatusBadRequest, replenish.EInvalid, "limit", "GET", "/api/v1/orders?limit=0x", w.c.APIKey, nil)
	e.refused(http.StatusBadRequest, replenish.EInvalid, "cursor", "GET", "/api/v1/orders?cursor=zzz", w.c.APIKey, nil)
}

// TestWebhookFulfilment: each released order is POSTed, signed, to the
// commerce system, again after a failure, and the commerce system reports
// back with its key.
func TestWebhookFulfilment(t *testing.T) {
	var mu sync.Mutex
	var got []string
	fail := true
	commerce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := signing.Verify(testFulfilmentKey, r.Header.Get(signing.Header), body, time.Now()); err != nil {
			got = append(got, "bad signature: "+err.Error())
		}
		got = append(got, string(body))
		if fail {
			fail = false
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(commerce.Close)
	w := ordWorld(t, func(s *orders.Settings) {
		s.CancelWindow = time.Minute
		s.Fulfilment = orders.Fulfilment{Adapter: orders.Webhook, URL: commerce.URL, Key: testFulfilmentKey}
	})
	e := w.e
	w.lowEpisode(t, "6")
	id := w.onlyOrder(t).OrderID
	e.clock.Advance(time.Minute)
	w.tick(t) // released, and the first attempt fails
	w.tick(t) // not yet due again
	e.clock.Advance(10 * time.Second)
	w.tick(t) // the second gets through
	w.tick(t)
	mu.Lock()
	if len(got) != 2 || !strings.Contains(got[1], `"orderId":"`+id+`"`) || !strings.Contains(got[1], `"type":"OrderReleased"`) ||
		!strings.Contains(got[1], `"customerId":"`+w.c.CustomerID+`"`) {
		t.Fatalf("the commerce system got %d requests: %v", len(got), got)
	}
	mu.Unlock()

	// It reports back with its key, which reaches nothing else.
	var o replenish.Order
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/ship", testFulfilmentKey, map[string]string{"trackingReference": "DHL-1"}, &o)
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/deliver", testFulfilmentKey, nil, &o)
	if want := []string{"PENDING by service", "RELEASED by service", "SHIPPED by fulfilment", "DELIVERED by fulfilment"}; !slices.Equal(steps(o), want) {
		t.Fatalf("steps %v, want %v", steps(o), want)
	}
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "GET", "/api/v1/endpoints", testFulfilmentKey, nil)
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "POST", "/api/v1/vendors", testFulfilmentKey, map[string]string{})
}

// TestOrderExactlyOnce: the same low readings sent many times at once,
// under new message IDs and repeated ones, place one order.
func TestOrderExactlyOnce(t *testing.T) {
	w := ordWorld(t, nil)
	at := w.e.clock.Now()
	var bodies [][]byte
	for i := range 3 {
		bodies = append(bodies, gwChange(replenish.NewUUID(), w.ep, w.tok.AccessToken,
			gwLevel("InkSensor.Black", "6", at.Add(time.Duration(i)*time.Second))))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range bodies {
				b := bodies[i]
				if g%2 == 0 {
					// A new message ID for the same samples.
					b = gwChange(replenish.NewUUID(), w.ep, w.tok.AccessToken, gwLevel("InkSensor.Black", "6", at.Add(time.Duration(i)*time.Second)))
				}
				if status, raw := w.e.do("POST", "/v3/events", w.tok.AccessToken, b); status != http.StatusAccepted {
					errs <- fmt.Errorf("%d %s", status, raw)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	o := w.onlyOrder(t)
	placed := 0
	for _, f := range w.feed(t) {
		if f.Type == replenish.FeedOrderPlaced {
			placed++
		}
	}
	if placed != 1 || o.Status != replenish.OrderPending {
		t.Fatalf("%d ORDER_PLACED notices for %+v, want one", placed, o)
	}
}
