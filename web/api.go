package web

// The JSON API's routes. Every /api/ route is registered with s.api (or
// s.modelAPI for a vendor's model routes and their operator twins), which
// records its pattern, and is described in web/openapi.json: a test fails
// when a registered route is not described or a described one is not
// registered.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"replenish"
	"replenish/console"
	"replenish/customers"
)

// handler is an API handler: it returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request, p replenish.Principal) error

// api registers an API route for the given roles and records its pattern
// for the OpenAPI check.
func (s *Server) api(mux *http.ServeMux, pattern string, h handler, roles ...replenish.Role) {
	s.apiPatterns = append(s.apiPatterns, pattern)
	mux.HandleFunc(pattern, s.as(h, roles...))
}

// public registers an API route that needs no key.
func (s *Server) public(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	s.apiPatterns = append(s.apiPatterns, pattern)
	mux.HandleFunc(pattern, h)
}

// APIRoutes returns the patterns of the API routes registered by Handler.
func (s *Server) APIRoutes() []string { return slices.Clone(s.apiPatterns) }

// modelHandler is a handler of a vendor's model routes; vendorCode is whose
// models they are.
type modelHandler func(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error

// modelAPI registers a vendor route under /api/v1/models and its operator
// twin under /api/v1/vendors/{vendorCode}/models, for any vendor.
func (s *Server) modelAPI(mux *http.ServeMux, method, rest string, h modelHandler) {
	if strings.Contains(rest, "{modelId}") {
		h = s.ownModel(h)
	}
	s.api(mux, method+" /api/v1/models"+rest, func(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
		return h(w, r, p, p.VendorCode)
	}, vendor)
	s.api(mux, method+" /api/v1/vendors/{vendorCode}/models"+rest, func(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
		return h(w, r, p, r.PathValue("vendorCode"))
	}, operator)
}

// ownModel has h answer only for a model of vendorCode: anyone else's
// request is not found before its body is read, so that nobody learns
// what is wrong with a body for a model that is not theirs.
func (s *Server) ownModel(h modelHandler) modelHandler {
	return func(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
		if _, err := s.Console.Model(r.Context(), vendorCode, r.PathValue("modelId")); err != nil {
			return err
		}
		return h(w, r, p, vendorCode)
	}
}

// ownEndpoint has h answer only for an endpoint (and slot, when the route
// names one) of the calling customer, before its body is read.
func (s *Server) ownEndpoint(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
		if err := s.Customers.Check(r.Context(), p.CustomerID, r.PathValue("endpointId"), r.PathValue("slotId")); err != nil {
			return err
		}
		return h(w, r, p)
	}
}

// as authenticates the request's API key and lets only the given roles in.
func (s *Server) as(h handler, roles ...replenish.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		key = strings.TrimSpace(key)
		var p replenish.Principal
		var err error
		if s.FulfilmentKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.FulfilmentKey)) == 1 {
			// The commerce system's key is configuration, not a stored key.
			p = replenish.Principal{Role: replenish.RoleFulfilment, KeyID: "fulfilment"}
		} else {
			p, err = s.Console.Authenticate(r.Context(), key)
		}
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
	operator   = replenish.RoleOperator
	vendor     = replenish.RoleVendor
	customer   = replenish.RoleCustomer
	fulfilment = replenish.RoleFulfilment
)

func (s *Server) apiRoutes(mux *http.ServeMux) {
	s.apiPatterns = nil
	// Everyone, without a key.
	s.public(mux, "GET /api/v1/openapi.json", serveOpenAPI)

	// Every key.
	s.api(mux, "GET /api/v1/marketplaces", s.listMarketplaces, operator, vendor, customer)

	// The operator.
	s.api(mux, "GET /api/v1/vendors", s.listVendors, operator)
	s.api(mux, "POST /api/v1/vendors", s.createVendor, operator)
	s.api(mux, "POST /api/v1/customers", s.createCustomer, operator)
	s.api(mux, "PUT /api/v1/products/{productId}", s.putProduct, operator)
	s.api(mux, "GET /api/v1/replenishment-requests", s.listRequests, operator)
	s.api(mux, "POST /api/v1/replenishment-requests/{requestId}/assign", s.assignRequest, operator)
	s.api(mux, "PATCH /api/v1/replenishment-requests/{requestId}", s.changeAssignment, operator)
	s.api(mux, "POST /api/v1/replenishment-requests/{requestId}/reject", s.rejectRequest, operator)

	// Vendors.
	s.api(mux, "GET /api/v1/vendor", s.getVendor, vendor)
	s.api(mux, "PUT /api/v1/vendor", s.putVendor, vendor)
	s.api(mux, "POST /api/v1/vendor/client-secret", s.rotateClientSecret, vendor)
	s.api(mux, "GET /api/v1/vendor/api-keys", s.listAPIKeys, vendor)
	s.api(mux, "POST /api/v1/vendor/api-keys", s.createAPIKey, vendor)
	s.api(mux, "DELETE /api/v1/vendor/api-keys/{keyId}", s.revokeAPIKey, vendor)

	// A vendor's models, and the same routes for the operator under
	// /api/v1/vendors/{vendorCode}.
	s.modelAPI(mux, "POST", "", s.createModel)
	s.modelAPI(mux, "GET", "", s.listModels)
	s.modelAPI(mux, "GET", "/{modelId}", s.getModel)
	s.modelAPI(mux, "PATCH", "/{modelId}", s.patchModel)
	s.modelAPI(mux, "DELETE", "/{modelId}", s.deleteModel)
	s.modelAPI(mux, "PUT", "/{modelId}/image", s.putModelImage)
	s.modelAPI(mux, "PUT", "/{modelId}/marketplaces/{mp}", s.addMarketplace)
	s.modelAPI(mux, "PUT", "/{modelId}/marketplaces/{mp}/image", s.putMarketplaceImage)
	s.modelAPI(mux, "PUT", "/{modelId}/marketplaces/{mp}/localization", s.putLocalization)
	s.modelAPI(mux, "DELETE", "/{modelId}/marketplaces/{mp}", s.removeMarketplace)
	s.modelAPI(mux, "POST", "/{modelId}/slots", s.addSlot)
	s.modelAPI(mux, "PATCH", "/{modelId}/slots/{slotId}", s.patchSlot)
	s.modelAPI(mux, "DELETE", "/{modelId}/slots/{slotId}", s.removeSlot)
	s.modelAPI(mux, "PUT", "/{modelId}/slots/{slotId}/products/{mp}", s.putSlotProducts)
	s.modelAPI(mux, "PUT", "/{modelId}/slots/{slotId}/replenishment-request", s.putRequest)
	s.modelAPI(mux, "POST", "/{modelId}/replenishment-requests/submit", s.submitRequests)
	s.modelAPI(mux, "GET", "/{modelId}/marketplaces/{mp}/test-accounts", s.listTestAccounts)
	s.modelAPI(mux, "PUT", "/{modelId}/marketplaces/{mp}/test-accounts/{customerId}", s.putTestAccount)
	s.modelAPI(mux, "DELETE", "/{modelId}/marketplaces/{mp}/test-accounts/{customerId}", s.deleteTestAccount)
	s.modelAPI(mux, "POST", "/{modelId}/certification", s.submitCertification)
	s.modelAPI(mux, "POST", "/{modelId}/marketplaces/{mp}/certification", s.submitListing)
	s.api(mux, "POST /api/v1/vendors/{vendorCode}/models/{modelId}/certification/approve", s.approveCertification, operator)
	s.api(mux, "POST /api/v1/vendors/{vendorCode}/models/{modelId}/certification/reject", s.rejectCertification, operator)
	s.modelAPI(mux, "GET", "/{modelId}/audit", s.modelAudit)
	s.api(mux, "GET /api/v1/audit", s.listAudit, operator, vendor)

	// Customers (their links, and the vendor's end of them, are in links.go).
	s.api(mux, "GET /api/v1/endpoints", s.listEndpoints, customer)
	s.api(mux, "PUT /api/v1/endpoints/{endpointId}/slots/{slotId}/subscription", s.ownEndpoint(s.putSubscription), customer)
	s.api(mux, "PUT /api/v1/endpoints/{endpointId}/slots/{slotId}/household-inventory", s.ownEndpoint(s.putHousehold), customer)
	s.api(mux, "GET /api/v1/feed", s.listFeed, customer)
	s.orderRoutes(mux)
	s.notificationRoutes(mux)
	s.deviceRoutes(mux)

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

func (s *Server) listVendors(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	vs, err := s.Console.Vendors(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(vs))
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

// productIn is the body of PUT /api/v1/products/{productId}: a product
// whose prices may be JSON numbers as well as strings. productId may be
// sent back as read; the path names the product.
type productIn struct {
	ProductID    string             `json:"productId"`
	Category     string             `json:"category"`
	PackQuantity float64            `json:"packQuantity"`
	PackUnit     string             `json:"packUnit"`
	Offers       map[string]offerIn `json:"offers"`
}

type offerIn struct {
	Title     string     `json:"title"`
	Price     numberText `json:"price"`
	Currency  string     `json:"currency"`
	Available bool       `json:"available"`
}

// numberText is a number as sent: the text of a JSON string, or the
// literal text of any other JSON value. A price such as 19.99 thus reaches
// catalog.NormalizePrice digit for digit, never through a float64, and a
// number sent as "10" or "95 %" is read as leniently as number reads it.
// What is not a number (true, an object) is refused there, by the field's
// name.
type numberText string

// UnmarshalJSON keeps b's text; null leaves it empty.
func (p *numberText) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = numberText(s)
	default:
		*p = numberText(b)
	}
	return nil
}

// number reads a number sent as field: digits with a point or a comma as
// the decimal mark, around them spaces and a per-cent sign. Empty text is
// nil; anything else is a problem recorded in f under the field's name.
func number(f replenish.Fields, field, text string) *float64 {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), "%"))
	if t == "" {
		return nil
	}
	v, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		f.Add(field, fmt.Sprintf("must be a number, such as 10 or 2.5, not %q", text))
		return nil
	}
	return &v
}

// assignmentIn is an assignment as sent, to the API or from a form.
type assignmentIn struct {
	Threshold    numberText `json:"threshold"`
	Policy       string     `json:"policy"`
	ServiceLevel numberText `json:"serviceLevel"`
}

func (in assignmentIn) assignment() (console.Assignment, error) {
	f := replenish.Fields{}
	a := console.Assignment{Policy: in.Policy, Threshold: number(f, "threshold", string(in.Threshold)),
		ServiceLevel: number(f, "serviceLevel", string(in.ServiceLevel))}
	return a, f.Err()
}

func (s *Server) putProduct(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in productIn
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := replenish.Product{ProductID: r.PathValue("productId"), Category: in.Category,
		PackQuantity: in.PackQuantity, PackUnit: in.PackUnit}
	if in.Offers != nil {
		p.Offers = make(map[string]replenish.Offer, len(in.Offers))
		for mp, o := range in.Offers {
			p.Offers[mp] = replenish.Offer{Title: o.Title, Price: string(o.Price), Currency: o.Currency, Available: o.Available}
		}
	}
	stored, err := s.Console.PutProduct(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stored)
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

func (s *Server) assignRequest(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	return s.onAssignment(w, r, p, s.Console.Assign)
}

func (s *Server) changeAssignment(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	return s.onAssignment(w, r, p, s.Console.ChangeAssignment)
}

// onAssignment reads an assignment and has do apply it to the request in
// the path.
func (s *Server) onAssignment(w http.ResponseWriter, r *http.Request, p replenish.Principal,
	do func(context.Context, replenish.Principal, string, console.Assignment) (replenish.Request, error)) error {
	var in assignmentIn
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := in.assignment()
	if err != nil {
		return err
	}
	req, err := do(r.Context(), p, r.PathValue("requestId"), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.Console.Reject(r.Context(), p, r.PathValue("requestId"), in.Reason)
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

func (s *Server) listFeed(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	fs, err := s.Customers.Feed(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(fs))
	return nil
}
