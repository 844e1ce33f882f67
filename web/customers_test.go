package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
)

// lowEpisode reports the black ink three times at value, a minute apart:
// enough consecutive low readings for the THRESHOLD policy at 10 %.
func (w *gwWorld) lowEpisode(t testing.TB, value string) {
	t.Helper()
	for range 3 {
		w.e.clock.Advance(time.Minute)
		gwAccepted(t, w.e, w.tok.AccessToken, w.black(value))
	}
}

func (w *gwWorld) subscribe(t testing.TB, body map[string]string) customers.Endpoint {
	t.Helper()
	var e customers.Endpoint
	w.e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+w.ep+"/slots/SLOT01/subscription", w.c.APIKey, body, &e)
	return e
}

func (w *gwWorld) orders(t testing.TB) []replenish.Order {
	t.Helper()
	var out struct{ Items []replenish.Order }
	w.e.must(http.StatusOK, "GET", "/api/v1/orders", w.c.APIKey, nil, &out)
	return out.Items
}

func (w *gwWorld) feed(t *testing.T) []replenish.FeedEntry {
	t.Helper()
	var out struct{ Items []replenish.FeedEntry }
	w.e.must(http.StatusOK, "GET", "/api/v1/feed", w.c.APIKey, nil, &out)
	return out.Items
}

// addBlackXL puts a second black cartridge on the black slot's US list.
func (w *gwWorld) addBlackXL(t *testing.T, available bool) {
	t.Helper()
	w.e.must(http.StatusOK, "PUT", "/api/v1/products/SIM-INK-BLACK-XL", w.e.OperatorKey, map[string]any{
		"category": "INK", "packQuantity": 1, "packUnit": "Count",
		"offers": map[string]any{"US": map[string]any{"title": "Black ink XL", "price": "29.99", "currency": "USD", "available": available}},
	}, nil)
	w.e.must(http.StatusOK, "PUT", "/api/v1/models/"+w.v.ModelID+"/slots/SLOT01/products/US", w.v.APIKey,
		map[string]any{"productIds": []string{"SIM-INK-BLACK", "SIM-INK-BLACK-XL"}}, nil)
}

// TestCustomerSubscription checks the rules of a slot's mode and product,
// and that smart reorder orders the product the customer chose.
func TestCustomerSubscription(t *testing.T) {
	w := gwLinked(t)
	s := gwSlot(t, w.e, w.c, w.ep, "SLOT01")
	if s.Mode != replenish.ModeNotify || s.ProductID != "SIM-INK-BLACK" {
		t.Fatalf("after discovery: mode %s product %s, want NOTIFY and the first product of the list", s.Mode, s.ProductID)
	}
	path := "/api/v1/endpoints/" + w.ep + "/slots/SLOT01/subscription"
	before := gwSnapshot(t, w.e, w.c)
	w.e.refused(400, replenish.EInvalid, "mode", "PUT", path, w.c.APIKey, map[string]string{"mode": "SOMETIMES"})
	w.e.refused(400, replenish.EInvalid, "productId", "PUT", path, w.c.APIKey,
		map[string]string{"mode": "AUTO", "productId": "SIM-INK-CYAN"})
	w.e.refused(400, replenish.EInvalid, "productId", "PUT", path, w.c.APIKey,
		map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK-XL"})
	w.e.refused(404, replenish.ENotFound, "", "PUT", "/api/v1/endpoints/"+w.ep+"/slots/NOPE/subscription", w.c.APIKey,
		map[string]string{"mode": "AUTO"})
	w.e.refused(404, replenish.ENotFound, "", "PUT", "/api/v1/endpoints/no-such-printer/slots/SLOT01/subscription", w.c.APIKey,
		map[string]string{"mode": "AUTO"})
	// Another customer cannot touch this one's device.
	other := gwCustomer(t, w.e)
	w.e.refused(404, replenish.ENotFound, "", "PUT", path, other.APIKey, map[string]string{"mode": "OFF"})
	if after := gwSnapshot(t, w.e, w.c); after != before {
		t.Fatalf("refused subscriptions changed the slot:\n%s\n%s", before, after)
	}

	w.addBlackXL(t, true)
	e := w.subscribe(t, map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK-XL"})
	if e.Slots[0].Mode != replenish.ModeAuto || e.Slots[0].ProductID != "SIM-INK-BLACK-XL" ||
		len(e.Slots[0].Products) != 2 {
		t.Fatalf("after subscribing: %+v", e.Slots[0])
	}
	// An empty productId keeps the chosen one.
	if e := w.subscribe(t, map[string]string{"mode": "AUTO"}); e.Slots[0].ProductID != "SIM-INK-BLACK-XL" {
		t.Fatalf("product after a mode-only change = %s", e.Slots[0].ProductID)
	}
	w.lowEpisode(t, "5")
	os := w.orders(t)
	if len(os) != 1 || os[0].ProductID != "SIM-INK-BLACK-XL" || os[0].Price != "29.99" {
		t.Fatalf("orders = %+v, want one of the chosen SIM-INK-BLACK-XL at 29.99", os)
	}
}

// TestCustomerModeOff: a slot in OFF is tracked and shown, and nothing is sent.
func TestCustomerModeOff(t *testing.T) {
	w := gwLinked(t)
	w.subscribe(t, map[string]string{"mode": "OFF"})
	w.lowEpisode(t, "4")
	if s := gwSlot(t, w.e, w.c, w.ep, "SLOT01"); s.Status != replenish.StatusLow || s.Level == nil || s.Level.Value != 4 {
		t.Fatalf("slot in OFF: %+v, want LOW at 4", s)
	}
	if f, o := w.feed(t), w.orders(t); len(f) != 0 || len(o) != 0 {
		t.Fatalf("OFF sent something: feed %+v orders %+v", f, o)
	}
}

// TestCustomerCancelOrder: a pending order can be cancelled once; no new
// order in the same low episode; a refill starts a new one.
func TestCustomerCancelOrder(t *testing.T) {
	w := gwLinked(t)
	w.subscribe(t, map[string]string{"mode": "AUTO"})
	w.lowEpisode(t, "6")
	os := w.orders(t)
	if len(os) != 1 {
		t.Fatalf("orders = %+v, want one", os)
	}
	id := os[0].OrderID
	var o replenish.Order
	w.e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/cancel", w.c.APIKey, nil, &o)
	if o.Status != replenish.OrderCancelled {
		t.Fatalf("cancelled order: %+v", o)
	}
	// Cancelling again is safe and changes nothing.
	before := gwSnapshot(t, w.e, w.c)
	w.e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/cancel", w.c.APIKey, nil, &o)
	if after := gwSnapshot(t, w.e, w.c); after != before || o.Status != replenish.OrderCancelled {
		t.Fatalf("a second cancel changed something:\n%s\n%s", before, after)
	}
	w.e.refused(404, replenish.ENotFound, "", "POST", "/api/v1/orders/ord-unknown/cancel", w.c.APIKey, nil)
	f := w.feed(t)
	if len(f) != 2 || f[0].Type != replenish.FeedOrderCancelled || f[1].Type != replenish.FeedOrderPlaced {
		t.Fatalf("feed = %+v, want ORDER_CANCELLED after ORDER_PLACED", f)
	}

	// Still low, same episode: the customer said no, so no new order for
	// the cooldown (Dash: 5 days), and the customer is told why.
	w.lowEpisode(t, "5")
	if os := w.orders(t); len(os) != 1 {
		t.Fatalf("orders after more low readings in the cancelled episode = %d, want 1", len(os))
	}
	if f := w.feed(t); f[0].Type != replenish.FeedLowSupply || !strings.Contains(f[0].Message, "waits until") {
		t.Fatalf("feed = %+v, want a LOW_SUPPLY saying smart reorder waits", f)
	}
	// A new cartridge and a new low episode inside the cooldown: still none.
	w.e.clock.Advance(time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "7")
	if os := w.orders(t); len(os) != 1 {
		t.Fatalf("orders inside the cooldown = %d, want 1", len(os))
	}
	// Once the cooldown is over, the next low episode orders again.
	w.e.clock.Advance(120 * time.Hour)
	w.refresh(t)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "7")
	os = w.orders(t)
	if len(os) != 2 || os[0].Status != replenish.OrderPending || os[0].OrderID == id {
		t.Fatalf("orders after the cooldown = %+v, want a new PENDING one first", os)
	}
}

// TestCustomerProductUnavailable: smart reorder does not order a product
// that is not available, and tells the customer why.
func TestCustomerProductUnavailable(t *testing.T) {
	w := gwLinked(t)
	w.addBlackXL(t, false)
	w.subscribe(t, map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK-XL"})
	w.lowEpisode(t, "3")
	if os := w.orders(t); len(os) != 0 {
		t.Fatalf("ordered an unavailable product: %+v", os)
	}
	f := w.feed(t)
	if len(f) != 1 || f[0].Type != replenish.FeedLowSupply || !strings.Contains(f[0].Message, "not available") {
		t.Fatalf("feed = %+v, want one LOW_SUPPLY saying the product is not available", f)
	}
}
