package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/orders"
	"replenish/storage"
	"replenish/web/browsertest"
)

// releasedOrder is ordWorld with the console's users and one real order,
// released by its timer: what the operator's orders page is for.
func releasedOrder(t *testing.T) (*gwWorld, replenish.Order) {
	t.Helper()
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Minute })
	consoleUsers(t, w.e)
	w.lowEpisode(t, "6")
	w.e.clock.Advance(time.Minute)
	w.tick(t)
	o := w.onlyOrder(t)
	if o.Status != replenish.OrderReleased {
		t.Fatalf("after the window the order is %s, want RELEASED", o.Status)
	}
	return w, o
}

// card returns the order's card on a page, "" when the page lacks it.
func card(body, orderID string) string {
	_, after, ok := strings.Cut(body, `<section class="card order" id="`+orderID+`">`)
	if !ok {
		return ""
	}
	c, _, _ := strings.Cut(after, "</section>")
	return c
}

// TestConsoleOrdersPage: the operator ships, delivers and cancels orders
// from the orders page's forms; a refused form names its field, keeps what
// was typed and changes nothing; vendors cannot open the page.
func TestConsoleOrdersPage(t *testing.T) {
	w, o := releasedOrder(t)
	e, id := w.e, o.OrderID
	list := e.URL + "/console/operator/orders"
	path := list + "/" + id

	// Signed out, the page leads to sign-in; a vendor user may not see it
	// nor use its forms.
	resp, _ := get(t, pageClient(t), list)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in?next=%2Fconsole%2Foperator%2Forders" {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	vc := pageClient(t)
	post(t, vc, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	if resp, body := get(t, vc, list); resp.StatusCode != http.StatusForbidden || strings.Contains(body, id) {
		t.Fatalf("a vendor on the orders page: %d, want 403 without the order", resp.StatusCode)
	}
	if resp, _ := post(t, vc, path+"/ship", url.Values{"trackingReference": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a vendor shipping from the page: %d, want 403", resp.StatusCode)
	}

	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	resp, body := get(t, c, list)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<a href="/console/operator/orders">Orders</a>`) {
		t.Fatalf("orders page: %d, want 200 with the Orders link in the navigation\n%s", resp.StatusCode, body)
	}
	released := card(body, id)
	for _, want := range []string{"RELEASED", "SIM-INK-BLACK", "19.99 USD", w.c.CustomerID, w.v.VendorCode, w.ep, "SLOT01",
		`id="ship-` + id + `"`, `id="cancel-` + id + `"`, "Ship by", "RELEASED</span> by service"} {
		if !strings.Contains(released, want) {
			t.Fatalf("the released order's card lacks %q:\n%s", want, released)
		}
	}
	if strings.Contains(released, `id="deliver-`) {
		t.Fatalf("a released order offers delivery:\n%s", released)
	}

	// Refused forms: the message by its field, what was typed kept,
	// nothing changed.
	long := strings.Repeat("x", 201)
	resp, body = post(t, c, path+"/ship?status=RELEASED", url.Values{"trackingReference": {long}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(card(body, id), `value="`+long+`" class="invalid"`) ||
		!strings.Contains(card(body, id), `<p class="field-error">at most 200 bytes</p>`) {
		t.Fatalf("a too long tracking reference: %d, want 400 with the field's message and the input kept\n%s", resp.StatusCode, body)
	}
	resp, body = post(t, c, path+"/cancel?status=RELEASED", url.Values{"reason": {"  "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(card(body, id),
		`<input id="cancel-`+id+`-reason" name="reason" value="  " class="invalid" aria-invalid="true">
    <p class="field-error">required: say why the order is cancelled; the customer reads it</p>`) {
		t.Fatalf("a cancellation without a reason: %d, want 400 naming the reason by its field\n%s", resp.StatusCode, body)
	}
	if strings.Contains(card(body, id), `id="ship-`+id+`-tracking" name="trackingReference" value="x`) {
		t.Fatal("the refusal of one form shows in another")
	}
	if got := w.order(t, id); got.Status != replenish.OrderReleased || len(got.Steps) != 2 {
		t.Fatalf("refused forms changed the order: %v", steps(got))
	}

	// Ship with a tracking reference: back to the released list, where
	// the order no longer is; the Shipped tab has it with its tracking.
	resp, _ = post(t, c, path+"/ship?status=RELEASED", url.Values{"trackingReference": {" 1Z999AA1 "}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console/operator/orders?done=shipped&status=RELEASED" {
		t.Fatalf("shipping: %d to %q", resp.StatusCode, loc)
	}
	_, body = get(t, c, e.URL+resp.Header.Get("Location"))
	if !strings.Contains(body, "Marked shipped; the customer is told.") || card(body, id) != "" || !strings.Contains(body, `id="orders-empty"`) {
		t.Fatalf("after shipping, the released list still has the order or no notice\n%s", body)
	}
	_, body = get(t, c, list+"?status=SHIPPED")
	shipped := card(body, id)
	for _, want := range []string{`<span class="badge SHIPPED">SHIPPED</span>`, `<code>1Z999AA1</code>`, "SHIPPED</span> by operator",
		`id="deliver-` + id + `"`, `id="cancel-` + id + `"`} {
		if !strings.Contains(shipped, want) {
			t.Fatalf("the shipped order's card lacks %q:\n%s", want, shipped)
		}
	}
	if strings.Contains(shipped, `id="ship-`) {
		t.Fatalf("a shipped order offers shipping:\n%s", shipped)
	}
	if got := w.order(t, id); got.Status != replenish.OrderShipped || got.TrackingReference != "1Z999AA1" {
		t.Fatalf("after shipping from the page: %s, tracking %q", got.Status, got.TrackingReference)
	}

	// Deliver, from the Shipped tab.
	resp, _ = post(t, c, path+"/deliver?status=SHIPPED", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/console/operator/orders?done=delivered&status=SHIPPED" {
		t.Fatalf("delivering: %d to %q", resp.StatusCode, loc)
	}
	want := []string{"PENDING by service", "RELEASED by service", "SHIPPED by operator", "DELIVERED by operator"}
	if got := w.order(t, id); !slices.Equal(steps(got), want) {
		t.Fatalf("after delivering from the page: %v, want %v", steps(got), want)
	}
	_, body = get(t, c, list+"?status=all")
	delivered := card(body, id)
	if !strings.Contains(delivered, "History (4 steps)") || strings.Contains(delivered, "<form") {
		t.Fatalf("a delivered order shows its four steps and no button:\n%s", delivered)
	}

	// A step the order's state no longer allows, say from a page left
	// open: the message names the state, although the order is no longer
	// on the list the form came from.
	resp, body = post(t, c, path+"/cancel?status=RELEASED", url.Values{"reason": {"lost in transit"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `<p class="problem" role="alert">order `+id+` is DELIVERED`) {
		t.Fatalf("cancelling a delivered order: %d, want 409 naming its state\n%s", resp.StatusCode, body)
	}
	if got := w.order(t, id); got.Status != replenish.OrderDelivered {
		t.Fatalf("the refused cancellation made the order %s", got.Status)
	}
	if resp, _ := get(t, c, list+"?status=LOST"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown status: %d, want 400", resp.StatusCode)
	}
}

// TestConsoleOrdersPageCancel: the operator cancels a pending order with
// a reason the customer reads; the list pages with "Older orders".
func TestConsoleOrdersPageCancel(t *testing.T) {
	w := ordWorld(t, nil)
	consoleUsers(t, w.e)
	e := w.e
	w.lowEpisode(t, "6")
	id := w.onlyOrder(t).OrderID
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	_, body := get(t, c, e.URL+"/console/operator/orders?status=PENDING")
	if pending := card(body, id); !strings.Contains(pending, `id="cancel-`+id+`"`) || strings.Contains(pending, `id="ship-`) {
		t.Fatalf("a pending order offers cancelling only:\n%s", pending)
	}
	resp, _ := post(t, c, e.URL+"/console/operator/orders/"+id+"/cancel?status=PENDING", url.Values{"reason": {"the product is recalled"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/operator/orders?done=cancelled&status=PENDING" {
		t.Fatalf("cancelling: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	o := w.order(t, id)
	if last := o.Steps[len(o.Steps)-1]; o.Status != replenish.OrderCancelled || last.Actor != replenish.ActorOperator || last.Reason != "the product is recalled" {
		t.Fatalf("after cancelling from the page: %+v", o)
	}
	if f := w.feed(t); len(f) == 0 || !strings.Contains(f[0].Message, "the product is recalled") {
		t.Fatalf("the customer is not told the reason: %+v", f)
	}

	// More orders than a page holds: the page links to the older ones.
	// They are stored directly, as delivered orders of earlier days.
	o, err := e.Orders.Order(t.Context(), replenish.Principal{Role: replenish.RoleOperator}, id) // with its slot's key
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Write(t.Context(), func(tx storage.Tx) error {
		for i := range orders.ListLimit {
			old := o
			old.OrderID, old.Status, old.DueAt = fmt.Sprintf("ord-old-%03d", i), replenish.OrderDelivered, time.Time{}
			old.PlacedAt = o.PlacedAt.Add(-time.Duration(i+1) * 24 * time.Hour)
			if err := tx.InsertOrder(t.Context(), old); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body = get(t, c, e.URL+"/console/operator/orders?status=all")
	if n := strings.Count(body, `<section class="card order"`); n != orders.ListLimit || card(body, id) == "" || card(body, "ord-old-099") != "" {
		t.Fatalf("the first page has %d orders, want the newest %d", n, orders.ListLimit)
	}
	_, older, ok := strings.Cut(body, `<a href="?`)
	older, _, _ = strings.Cut(older, `" id="older">Older orders</a>`)
	if !ok || !strings.Contains(older, "status=ALL") {
		t.Fatalf("no Older orders link on the first page\n%s", body[len(body)-600:])
	}
	_, body = get(t, c, e.URL+"/console/operator/orders?"+html.UnescapeString(older))
	if n := strings.Count(body, `<section class="card order"`); n != 1 || card(body, "ord-old-099") == "" ||
		!strings.Contains(body, `id="newest">Newest orders</a>`) || strings.Contains(body, `id="older"`) {
		t.Fatalf("the second page has %d orders, want the oldest one and a link to the newest\n%s", n, body)
	}
}

// TestConsolePagesOrders: in a real browser at a phone's size, the
// operator opens the orders page, ships a released order with a tracking
// reference, finds it under Shipped with its history, and marks it
// delivered; a cancellation without a reason is refused by its field.
func TestConsolePagesOrders(t *testing.T) {
	w, o := releasedOrder(t)
	e, id := w.e, o.OrderID
	b := browsertest.New(t)
	signIn(t, b, e.URL, opEmail, opPassword)
	submit(t, b, `header nav a[href="/console/operator/orders"]`)
	b.WaitFor("#" + id)
	if got := b.Text("#" + id + " h2 .badge"); got != replenish.OrderReleased {
		t.Fatalf("the order shows %q, want RELEASED", got)
	}
	b.Shot("operator-orders-released")

	// Cancelling needs a reason; the typed tracking reference of the other
	// form is not this form's business.
	submit(t, b, "#cancel-"+id+" button")
	if got := b.Text("#cancel-" + id + "-reason + .field-error"); got != "required: say why the order is cancelled; the customer reads it" {
		t.Fatalf("a cancellation without a reason says %q", got)
	}
	b.Shot("operator-orders-cancel-refused")
	if got := w.order(t, id); got.Status != replenish.OrderReleased {
		t.Fatalf("the refused cancellation made the order %s", got.Status)
	}

	b.Fill("#ship-"+id+"-tracking", "1Z999AA10123456784")
	submit(t, b, "#ship-"+id+" button")
	wantNotice(t, b, "Marked shipped; the customer is told. The order is now under Shipped.")
	b.WaitFor("#orders-empty")
	submit(t, b, `#order-tabs a[href$="status=SHIPPED"]`)
	if got := b.Text("#" + id + " h2 .badge"); got != replenish.OrderShipped {
		t.Fatalf("under Shipped the order shows %q", got)
	}
	if got := b.Text("#" + id + " .tracking"); got != "1Z999AA10123456784" {
		t.Fatalf("the shipped order's tracking shows %q", got)
	}
	b.Click("#"+id+" details.history summary", "#"+id+" details.history ol")
	if got := b.Text("#" + id + " details.history ol"); !strings.Contains(got, "SHIPPED by operator: shipped") {
		t.Fatalf("the history lacks the shipping step:\n%s", got)
	}
	b.Shot("operator-orders-shipped")
	if got := w.order(t, id); got.Status != replenish.OrderShipped || got.TrackingReference != "1Z999AA10123456784" {
		t.Fatalf("after shipping in the browser: %s, tracking %q", got.Status, got.TrackingReference)
	}

	submit(t, b, "#deliver-"+id+" button")
	wantNotice(t, b, "Marked delivered; the customer is told.")
	submit(t, b, `#order-tabs a[href$="status=ALL"]`)
	if got := b.Text("#" + id + " h2 .badge"); got != replenish.OrderDelivered {
		t.Fatalf("under All the order shows %q", got)
	}
	b.Shot("operator-orders-delivered")
}
