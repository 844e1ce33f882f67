package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"replenish"
)

// Client calls Replenish's JSON API.
type Client struct {
	URL  string
	HTTP *http.Client
}

// APIError is an error answer of the API.
type APIError struct {
	Status int
	Body   struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Body.Code, e.Body.Message)
}

// Do sends in as JSON with key as bearer and decodes the answer into out.
func (c *Client) Do(ctx context.Context, method, path, key string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		json.NewDecoder(resp.Body).Decode(e)
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// Vendor is a vendor registered by Register, with its credentials.
type Vendor struct {
	VendorCode    string `json:"vendorCode"`
	APIKey        string `json:"apiKey"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	SigningSecret string `json:"signingSecret"`
	ModelID       string
	Inks          []Ink
}

// The printer model's inks: slot, sensor instance, name, catalog product.
var printerInks = []struct{ slot, instance, name, product string }{
	{"SLOT01", "InkSensor.Black", "Black ink", "SIM-INK-BLACK"},
	{"SLOT02", "InkSensor.Cyan", "Cyan ink", "SIM-INK-CYAN"},
	{"SLOT03", "InkSensor.Magenta", "Magenta ink", "SIM-INK-MAGENTA"},
	{"SLOT04", "InkSensor.Yellow", "Yellow ink", "SIM-INK-YELLOW"},
}

// Register does, through the API, what a device maker and the operator do
// before any device can report: ink products in the catalog, a vendor
// whose skill endpoint is skillURL, a printer model with four ink slots
// sold in the US, their replenishment-ID requests, and the operator's
// assignment of each (threshold in percent, THRESHOLD policy).
func Register(ctx context.Context, c *Client, operatorKey, skillURL string, threshold float64) (*Vendor, error) {
	for _, ink := range printerInks {
		product := map[string]any{"category": "INK", "packQuantity": 1, "packUnit": "Count",
			"offers": map[string]any{"US": map[string]any{"title": ink.name + " cartridge (simulated)",
				"price": "19.99", "currency": "USD", "available": true}}}
		if err := c.Do(ctx, "PUT", "/api/v1/products/"+ink.product, operatorKey, product, nil); err != nil {
			return nil, err
		}
	}
	code := replenish.NewID("sim-", 8)
	v := &Vendor{ModelID: "sim-printer"}
	if err := c.Do(ctx, "POST", "/api/v1/vendors", operatorKey,
		map[string]string{"vendorCode": code, "name": "Simulated Printers " + strings.TrimPrefix(code, "sim-")}, v); err != nil {
		return nil, err
	}
	key := v.APIKey
	if err := c.Do(ctx, "PUT", "/api/v1/vendor", key, map[string]any{"skillEndpointUrl": skillURL}, nil); err != nil {
		return nil, err
	}
	model := "/api/v1/models/" + v.ModelID
	type call struct {
		method, path string
		body         any
	}
	steps := []call{
		{"POST", "/api/v1/models", map[string]string{"kind": "SKILL", "name": "Simulated ink-jet printer", "modelId": v.ModelID}},
		{"PUT", model + "/marketplaces/US", nil},
		{"PATCH", model + "/slots/SLOT01", map[string]string{"category": "INK"}},
	}
	for _, ink := range printerInks[1:] {
		steps = append(steps, call{"POST", model + "/slots", map[string]string{"slotId": ink.slot, "category": "INK"}})
	}
	for _, ink := range printerInks {
		steps = append(steps,
			call{"PUT", model + "/slots/" + ink.slot + "/products/US", map[string]any{"productIds": []string{ink.product}}},
			call{"PUT", model + "/slots/" + ink.slot + "/replenishment-request", map[string]any{
				"sensorType": "LEVEL", "measurement": map[string]string{"type": "Percentage"},
				"description": "optical level sensor in the " + ink.name + " cartridge, reports whole percent", "submit": true}})
	}
	for _, s := range steps {
		if err := c.Do(ctx, s.method, s.path, key, s.body, nil); err != nil {
			return nil, err
		}
	}

	var queue struct{ Items []replenish.Request }
	if err := c.Do(ctx, "GET", "/api/v1/replenishment-requests?status=SUBMITTED", operatorKey, nil, &queue); err != nil {
		return nil, err
	}
	for _, r := range queue.Items {
		if r.VendorCode != code {
			continue
		}
		if err := c.Do(ctx, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", operatorKey,
			map[string]any{"threshold": threshold, "policy": "THRESHOLD"}, nil); err != nil {
			return nil, err
		}
	}
	var m replenish.Model
	if err := c.Do(ctx, "GET", model, key, nil, &m); err != nil {
		return nil, err
	}
	for i, ink := range printerInks {
		if m.Slots[i].Request == nil || m.Slots[i].Request.ReplenishmentID == "" {
			return nil, fmt.Errorf("slot %s has no replenishment ID after assignment", ink.slot)
		}
		v.Inks = append(v.Inks, Ink{Instance: ink.instance, Name: ink.name, ReplenishmentID: m.Slots[i].Request.ReplenishmentID})
	}
	return v, nil
}

// Customer is a customer created by AddCustomer.
type Customer struct {
	CustomerID string `json:"customerId"`
	APIKey     string `json:"apiKey"`
	Name       string `json:"name"`
}

// AddCustomer creates a customer in the US, makes them a test account of
// the vendor's model, and links their account with the vendor through the
// real directive and token flow.
func AddCustomer(ctx context.Context, c *Client, operatorKey string, v *Vendor, name string) (*Customer, error) {
	cu := &Customer{}
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "." + replenish.NewID("", 6) + "@example.com"
	if err := c.Do(ctx, "POST", "/api/v1/customers", operatorKey,
		map[string]string{"email": email, "name": name, "marketplace": "US"}, cu); err != nil {
		return nil, err
	}
	if err := c.Do(ctx, "PUT", "/api/v1/models/"+v.ModelID+"/marketplaces/US/test-accounts/"+cu.CustomerID,
		v.APIKey, nil, nil); err != nil {
		return nil, err
	}
	if err := c.Do(ctx, "POST", "/api/v1/links", cu.APIKey, map[string]string{"vendorCode": v.VendorCode}, nil); err != nil {
		return nil, err
	}
	return cu, nil
}

// SetMode sets the mode of every slot of every device of a customer.
func SetMode(ctx context.Context, c *Client, cu *Customer, mode string) error {
	var es struct {
		Items []struct {
			EndpointID string
			Slots      []struct{ SlotID string }
		}
	}
	if err := c.Do(ctx, "GET", "/api/v1/endpoints", cu.APIKey, nil, &es); err != nil {
		return err
	}
	for _, e := range es.Items {
		for _, s := range e.Slots {
			if err := c.Do(ctx, "PUT", "/api/v1/endpoints/"+e.EndpointID+"/slots/"+s.SlotID+"/subscription",
				cu.APIKey, map[string]string{"mode": mode}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
