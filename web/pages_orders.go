package web

// The operator's orders page: with the manual fulfilment adapter, the
// operator ships, delivers and cancels released orders here, through the
// same orders service methods as the API.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"replenish"
	"replenish/orders"
)

// orderTabs are the orders page's tabs: the states in an order's life
// order, then every state.
var orderTabs = []struct{ Status, Name string }{
	{replenish.OrderPending, "Pending"}, {replenish.OrderReleased, "Released"}, {replenish.OrderShipped, "Shipped"},
	{replenish.OrderDelivered, "Delivered"}, {replenish.OrderCancelled, "Cancelled"}, {"ALL", "All"},
}

// ordersView is the operator's orders page.
type ordersView struct {
	// Status is the tab shown, one of orderTabs; Vendor the vendor
	// filter, "" for every vendor.
	Status string
	Tabs   []struct{ Status, Name string }
	Vendor string
	Orders []orderRow
	// Query is the list's query string with its "?", for the forms to
	// come back to the same list; First is its first page's, Older its
	// next page's ("" when there is none).
	Query, First, Older string
	// Paged is whether this is a later page of the list.
	Paged bool
	// Webhook is whether a commerce system ships the orders: the buttons
	// are then for corrections.
	Webhook bool
	// Unlisted is whether a refused form's order is not on this list
	// (it moved on meanwhile), so its message shows above the list.
	Unlisted bool
}

// orderRow is one order with the steps the operator may take from its
// state, by the orders service's rules.
type orderRow struct {
	replenish.Order
	Last                           replenish.OrderStep
	CanShip, CanDeliver, CanCancel bool
}

func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showOrders(w, r, u, &page{})
}

// orderList reads the list's filter from the query string: the status
// (RELEASED by default, the orders waiting for the operator), the vendor
// and the cursor.
func orderList(r *http.Request) (status, vendor, cursor string) {
	q := r.URL.Query()
	status = strings.ToUpper(strings.TrimSpace(q.Get("status")))
	if status == "" {
		status = replenish.OrderReleased
	}
	return status, strings.TrimSpace(q.Get("vendor")), q.Get("cursor")
}

// listQuery is the query string of a paged list (orders, notifications)
// with that filter.
func listQuery(status, vendor, cursor string) url.Values {
	v := url.Values{"status": {status}}
	if vendor != "" {
		v.Set("vendor", vendor)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return v
}

func (s *Server) showOrders(w http.ResponseWriter, r *http.Request, u replenish.User, p *page) error {
	status, vendor, cursor := orderList(r)
	if !slices.ContainsFunc(orderTabs, func(t struct{ Status, Name string }) bool { return t.Status == status }) {
		return replenish.FieldError("status", "must be PENDING, RELEASED, SHIPPED, DELIVERED, CANCELLED or ALL")
	}
	filter := status
	if status == "ALL" {
		filter = ""
	}
	os, next, err := s.Orders.List(r.Context(), u.Principal(), orders.Query{Status: filter, VendorCode: vendor, Cursor: cursor})
	if err != nil {
		return err
	}
	v := ordersView{Status: status, Tabs: orderTabs, Vendor: vendor, Paged: cursor != "",
		Query:   "?" + listQuery(status, vendor, cursor).Encode(),
		First:   "?" + listQuery(status, vendor, "").Encode(),
		Webhook: s.Orders.Settings().Fulfilment.Adapter == orders.Webhook, Unlisted: p.Problem != ""}
	if next != "" {
		v.Older = "?" + listQuery(status, vendor, next).Encode()
	}
	for _, o := range os {
		row := orderRow{Order: o,
			CanShip:    slices.Contains(orders.From(replenish.OrderShipped, replenish.ActorOperator), o.Status),
			CanDeliver: slices.Contains(orders.From(replenish.OrderDelivered, replenish.ActorOperator), o.Status),
			CanCancel:  slices.Contains(orders.From(replenish.OrderCancelled, replenish.ActorOperator), o.Status)}
		if len(o.Steps) > 0 {
			row.Last = o.Steps[len(o.Steps)-1]
		}
		if strings.HasSuffix(p.FormID, "-"+o.OrderID) {
			v.Unlisted = false
		}
		v.Orders = append(v.Orders, row)
	}
	p.Title, p.Data = "Orders", v
	s.render(w, r, p.statusOr(http.StatusOK), "operator-orders", p)
	return nil
}

// onOrder runs step on the order in the path and goes back to the list
// the form was on: with a notice when it worked, with the refused form
// when it did not.
func (s *Server) onOrder(w http.ResponseWriter, r *http.Request, u replenish.User, form, done string, step func(id string) error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("orderId")
	if err := step(id); err != nil {
		s.refuseWith(w, r, form+"-"+id, err, func(p *page) error { return s.showOrders(w, r, u, p) })
		return nil
	}
	status, vendor, cursor := orderList(r)
	back := listQuery(status, vendor, cursor)
	back.Set("done", done)
	http.Redirect(w, r, "/console/operator/orders?"+back.Encode(), http.StatusSeeOther)
	return nil
}

func (s *Server) shipOrderForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onOrder(w, r, u, "ship", "shipped", func(id string) error {
		_, err := s.Orders.Ship(r.Context(), u.Principal(), id, r.PostForm.Get("trackingReference"))
		return err
	})
}

func (s *Server) deliverOrderForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onOrder(w, r, u, "deliver", "delivered", func(id string) error {
		_, err := s.Orders.Deliver(r.Context(), u.Principal(), id)
		return err
	})
}

func (s *Server) cancelOrderForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onOrder(w, r, u, "cancel", "cancelled", func(id string) error {
		_, err := s.Orders.Cancel(r.Context(), u.Principal(), id, r.PostForm.Get("reason"))
		return err
	})
}
