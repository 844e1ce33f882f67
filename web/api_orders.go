package web

// The routes of orders, and the customer's routes that came with them:
// renaming a device, installed parts, a slot's history.

import (
	"net/http"
	"strconv"

	"replenish"
	"replenish/customers"
	"replenish/orders"
)

func (s *Server) orderRoutes(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/orders", s.listOrders, operator, vendor, customer, fulfilment)
	s.api(mux, "GET /api/v1/orders/{orderId}", s.getOrder, operator, vendor, customer, fulfilment)
	s.api(mux, "POST /api/v1/orders/{orderId}/cancel", s.cancelOrder, operator, customer, fulfilment)
	s.api(mux, "POST /api/v1/orders/{orderId}/ship", s.shipOrder, operator, fulfilment)
	s.api(mux, "POST /api/v1/orders/{orderId}/deliver", s.deliverOrder, operator, fulfilment)
	s.api(mux, "DELETE /api/v1/test-orders", s.cancelTestOrders, vendor)
	s.api(mux, "DELETE /api/v1/test-orders/slots/{slotId}", s.cancelTestOrders, vendor)

	s.api(mux, "PATCH /api/v1/endpoints/{endpointId}", s.ownEndpoint(s.patchEndpoint), customer)
	s.api(mux, "PUT /api/v1/endpoints/{endpointId}/slots/{slotId}/installed", s.ownEndpoint(s.putInstalled), customer)
	s.api(mux, "POST /api/v1/endpoints/{endpointId}/slots/{slotId}/orders", s.ownEndpoint(s.orderNow), customer)
	s.api(mux, "GET /api/v1/endpoints/{endpointId}/slots/{slotId}/history", s.slotHistory, customer)
}

// limitParam reads the limit query parameter; 0 when absent.
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, replenish.FieldError("limit", "must be a whole number")
	}
	return n, nil
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	os, next, err := s.Orders.List(r.Context(), p, orders.Query{Status: q.Get("status"), EndpointID: q.Get("endpointId"),
		VendorCode: q.Get("vendorCode"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[replenish.Order]{Items: os, NextCursor: next})
	return nil
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	o, err := s.Orders.Order(r.Context(), p, r.PathValue("orderId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// decodeOptional decodes a body that may be left out.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(w, r, v)
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	o, err := s.Orders.Cancel(r.Context(), p, r.PathValue("orderId"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) shipOrder(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		TrackingReference string `json:"trackingReference"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	o, err := s.Orders.Ship(r.Context(), p, r.PathValue("orderId"), in.TrackingReference)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) deliverOrder(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	o, err := s.Orders.Deliver(r.Context(), p, r.PathValue("orderId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) cancelTestOrders(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	os, err := s.Orders.CancelTestOrders(r.Context(), p, r.PathValue("slotId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(os))
	return nil
}

func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		FriendlyName *string `json:"friendlyName"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Customers.Rename(r.Context(), p.CustomerID, r.PathValue("endpointId"), in.FriendlyName)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) putInstalled(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in customers.Installed
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Customers.SetInstalled(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// orderNow places an order for a slot's product at the customer's
// request: the same use case as the Home Assistant bridge's button.
func (s *Server) orderNow(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct{}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	o, err := s.Orders.OrderNow(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) slotHistory(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	hs, next, err := s.Customers.History(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId"),
		customers.HistoryQuery{From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[replenish.HistoryEntry]{Items: hs, NextCursor: next})
	return nil
}
