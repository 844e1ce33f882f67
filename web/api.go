package web

import (
	"net/http"
	"strings"

	"replenish"
	"replenish/console"
	"replenish/customers"
)

// handler is an API handler: it returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request, p replenish.Principal) error

// as authenticates the request's API key and lets only the given roles in.
func (s *Server) as(h handler, roles ...replenish.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p, err := s.Console.Authenticate(r.Context(), strings.TrimSpace(key))
		if err == nil {
			err = replenish.Errorf(replenish.EForbidden, "this route is for %s keys", joinRoles(roles))
			for _, role := range roles {
				if p.Role == role {
					err = h(w, r, p)
					break
				}
			}
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

func joinRoles(roles []replenish.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, " or ")
}

// list is the shape of every list answer.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func items[T any](v []T) list[T] {
	if v == nil {
		v = []T{}
	}
	return list[T]{Items: v}
}

const (
	operator = replenish.RoleOperator
	vendor   = replenish.RoleVendor
	customer = replenish.RoleCustomer
)

func (s *Server) apiRoutes(mux *http.ServeMux) {
	// Everyone.
	mux.HandleFunc("GET /api/v1/marketplaces", s.as(s.listMarketplaces, operator, vendor, customer))

	// The operator.
	mux.HandleFunc("POST /api/v1/vendors", s.as(s.createVendor, operator))
	mux.HandleFunc("POST /api/v1/customers", s.as(s.createCustomer, operator))
	mux.HandleFunc("PUT /api/v1/products/{productId}", s.as(s.putProduct, operator))
	mux.HandleFunc("GET /api/v1/replenishment-requests", s.as(s.listRequests, operator))
	mux.HandleFunc("POST /api/v1/replenishment-requests/{requestId}/assign", s.as(s.assignRequest, operator))
	mux.HandleFunc("POST /api/v1/replenishment-requests/{requestId}/reject", s.as(s.rejectRequest, operator))

	// Vendors.
	mux.HandleFunc("GET /api/v1/vendor", s.as(s.getVendor, vendor))
	mux.HandleFunc("PUT /api/v1/vendor", s.as(s.putVendor, vendor))
	mux.HandleFunc("POST /api/v1/models", s.as(s.createModel, vendor))
	mux.HandleFunc("GET /api/v1/models", s.as(s.listModels, vendor))
	mux.HandleFunc("GET /api/v1/models/{modelId}", s.as(s.getModel, vendor))
	mux.HandleFunc("PUT /api/v1/models/{modelId}/marketplaces/{mp}", s.as(s.addMarketplace, vendor))
	mux.HandleFunc("POST /api/v1/models/{modelId}/slots", s.as(s.addSlot, vendor))
	mux.HandleFunc("PATCH /api/v1/models/{modelId}/slots/{slotId}", s.as(s.patchSlot, vendor))
	mux.HandleFunc("PUT /api/v1/models/{modelId}/slots/{slotId}/products/{mp}", s.as(s.putSlotProducts, vendor))
	mux.HandleFunc("PUT /api/v1/models/{modelId}/slots/{slotId}/replenishment-request", s.as(s.putRequest, vendor))
	mux.HandleFunc("PUT /api/v1/models/{modelId}/marketplaces/{mp}/test-accounts/{customerId}", s.as(s.putTestAccount, vendor))
	mux.HandleFunc("DELETE /api/v1/models/{modelId}/marketplaces/{mp}/test-accounts/{customerId}", s.as(s.deleteTestAccount, vendor))

	// Customers.
	mux.HandleFunc("POST /api/v1/links", s.as(s.createLink, customer))
	mux.HandleFunc("DELETE /api/v1/links/{vendorCode}", s.as(s.deleteLink, customer))
	mux.HandleFunc("GET /api/v1/endpoints", s.as(s.listEndpoints, customer))
	mux.HandleFunc("PUT /api/v1/endpoints/{endpointId}/slots/{slotId}/subscription", s.as(s.putSubscription, customer))
	mux.HandleFunc("PUT /api/v1/endpoints/{endpointId}/slots/{slotId}/household-inventory", s.as(s.putHousehold, customer))
	mux.HandleFunc("GET /api/v1/orders", s.as(s.listOrders, customer))
	mux.HandleFunc("POST /api/v1/orders/{orderId}/cancel", s.as(s.cancelOrder, customer))
	mux.HandleFunc("GET /api/v1/feed", s.as(s.listFeed, customer))

	// Anything else under /api/ answers in the API's error shape: 405 with
	// Allow when the path exists with other methods, else 404.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
			if _, pattern := mux.Handler(probe); pattern != "/api/" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.writeError(w, r, replenish.Errorf(replenish.EMethod, "%s %s is not a route; this path takes %s",
				r.Method, r.URL.Path, strings.Join(allowed, ", ")))
			return
		}
		s.writeError(w, r, replenish.Errorf(replenish.ENotFound, "no route %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
}

func (s *Server) listMarketplaces(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	ms, err := s.Console.Marketplaces(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ms))
	return nil
}

func (s *Server) createVendor(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in struct {
		VendorCode string `json:"vendorCode"`
		Name       string `json:"name"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.Console.CreateVendor(r.Context(), in.VendorCode, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in struct {
		Email       string `json:"email"`
		Name        string `json:"name"`
		Marketplace string `json:"marketplace"`
		Locale      string `json:"locale"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.Console.CreateCustomer(r.Context(), replenish.Customer{Email: in.Email, Name: in.Name,
		Marketplace: in.Marketplace, Locale: in.Locale})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) putProduct(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in replenish.Product
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.ProductID = r.PathValue("productId")
	if err := s.Console.PutProduct(r.Context(), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	rs, err := s.Console.Requests(r.Context(), r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(rs))
	return nil
}

func (s *Server) assignRequest(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in console.Assignment
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.Console.Assign(r.Context(), r.PathValue("requestId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.Console.Reject(r.Context(), r.PathValue("requestId"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

// vendorView is a vendor's settings as shown: secrets are never read back.
type vendorView struct {
	VendorCode string `json:"vendorCode"`
	Name       string `json:"name"`
	ClientID   string `json:"clientId"`
	replenish.VendorSettings
	OAuthClientSecretSet bool `json:"oauthClientSecretSet"`
}

func (s *Server) getVendor(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	v, err := s.Console.Vendor(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewVendor(v))
	return nil
}

func viewVendor(v replenish.Vendor) vendorView {
	if v.Settings.AllowedExitURIs == nil {
		v.Settings.AllowedExitURIs = []string{}
	}
	return vendorView{VendorCode: v.Code, Name: v.Name, ClientID: v.ClientID, VendorSettings: v.Settings,
		OAuthClientSecretSet: v.Settings.OAuthClientSecret != ""}
}

func (s *Server) putVendor(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		SkillEndpointURL      string   `json:"skillEndpointUrl"`
		OAuthAuthorizationURL string   `json:"oauthAuthorizationUrl"`
		OAuthTokenURL         string   `json:"oauthTokenUrl"`
		OAuthClientID         string   `json:"oauthClientId"`
		OAuthClientSecret     string   `json:"oauthClientSecret"`
		WebhookURL            string   `json:"webhookUrl"`
		AllowedExitURIs       []string `json:"allowedExitUris"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if _, err := s.Console.PutVendorSettings(r.Context(), p.VendorCode, replenish.VendorSettings(in)); err != nil {
		return err
	}
	return s.getVendor(w, r, p)
}

func (s *Server) createModel(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in console.NewModel
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.CreateModel(r.Context(), p.VendorCode, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	ms, err := s.Console.Models(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ms))
	return nil
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	m, err := s.Console.Model(r.Context(), p.VendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) addMarketplace(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	m, err := s.Console.AddMarketplace(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) addSlot(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		SlotID   string `json:"slotId"`
		Category string `json:"category"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.AddSlot(r.Context(), p.VendorCode, r.PathValue("modelId"), in.SlotID, in.Category)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) patchSlot(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		Category string `json:"category"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.SetSlotCategory(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("slotId"), in.Category)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) putSlotProducts(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		ProductIDs []string `json:"productIds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.SetSlotProducts(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("slotId"),
		r.PathValue("mp"), in.ProductIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) putRequest(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in console.RequestInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.Console.PutRequest(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("slotId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (s *Server) putTestAccount(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Console.PutTestAccount(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("mp"),
		r.PathValue("customerId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteTestAccount(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Console.DeleteTestAccount(r.Context(), p.VendorCode, r.PathValue("modelId"), r.PathValue("mp"),
		r.PathValue("customerId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		VendorCode string `json:"vendorCode"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.VendorCode == "" {
		return replenish.FieldError("vendorCode", "required")
	}
	l, err := s.Linking.Link(r.Context(), p.CustomerID, in.VendorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Linking.Unlink(r.Context(), p.CustomerID, r.PathValue("vendorCode")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	es, err := s.Customers.Endpoints(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(es))
	return nil
}

func (s *Server) putSubscription(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in customers.Subscription
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Customers.SetSubscription(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) putHousehold(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in customers.Household
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Customers.SetHousehold(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	os, err := s.Customers.Orders(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(os))
	return nil
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	o, err := s.Customers.CancelOrder(r.Context(), p.CustomerID, r.PathValue("orderId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) listFeed(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	fs, err := s.Customers.Feed(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(fs))
	return nil
}
