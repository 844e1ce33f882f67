package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
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
	return c.Send(ctx, method, path, key, "application/json", body.Bytes(), out)
}

// Send sends body as it is, of type contentType, with key as bearer and
// decodes the answer into out.
func (c *Client) Send(ctx context.Context, method, path, key, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
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

// Vendor is a vendor registered by Register or RegisterFleet, with its
// credentials and its models.
type Vendor struct {
	VendorCode    string `json:"vendorCode"`
	APIKey        string `json:"apiKey"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	SigningSecret string `json:"signingSecret"`
	// Kinds are its models, their slots' replenishment IDs filled in.
	Kinds []*Kind
	// ModelID and Inks are the printer model, for Register's callers.
	ModelID string
	Inks    []Ink
}

// Register does, through the API, what a device maker and the operator do
// before any device can report: ink products in the catalog, a vendor
// whose skill endpoint is skillURL, a printer model with four ink slots
// sold in the US, their replenishment-ID requests, and the operator's
// assignment of each (threshold in percent, THRESHOLD policy). The vendor
// has no webhook URL: Register's callers' skill endpoints are not always
// a Cloud, nor reachable (a benchmark's), and a vendor without one is not
// sent notifications. RegisterFleet sets it.
func Register(ctx context.Context, c *Client, operatorKey, skillURL string, threshold float64) (*Vendor, error) {
	v, err := register(ctx, c, operatorKey, map[string]any{"skillEndpointUrl": skillURL},
		[]Kind{printer(threshold, 15, 100, 4, 12)}, []string{"US"})
	if err != nil {
		return nil, err
	}
	k := v.Kinds[0]
	v.ModelID = k.ModelID
	for _, s := range k.Slots {
		v.Inks = append(v.Inks, Ink{Instance: s.Instance, Name: s.Name, ReplenishmentID: s.ReplenishmentID})
	}
	return v, nil
}

// RegisterFleet registers, through the API, a vendor whose skill endpoint
// is skillURL, a Cloud, with a model of each kind sold in the
// marketplaces: the slots' products in the catalog, the slots, their
// product lists, replenishment-ID requests, and the operator's assignment
// of each with the slot's threshold and the THRESHOLD policy. The
// vendor's webhook URL is the cloud's (WebhookURL), set with the skill
// endpoint, before any device links, so that every notification about
// the fleet reaches the cloud.
func RegisterFleet(ctx context.Context, c *Client, operatorKey, skillURL string, kinds []Kind, marketplaces []string) (*Vendor, error) {
	return register(ctx, c, operatorKey, map[string]any{"skillEndpointUrl": skillURL, "webhookUrl": WebhookURL(skillURL)},
		kinds, marketplaces)
}

// register is RegisterFleet with the vendor's settings (PUT /api/v1/vendor).
func register(ctx context.Context, c *Client, operatorKey string, settings map[string]any, kinds []Kind, marketplaces []string) (*Vendor, error) {
	var mps struct{ Items []replenish.Marketplace }
	if err := c.Do(ctx, "GET", "/api/v1/marketplaces", operatorKey, nil, &mps); err != nil {
		return nil, err
	}
	currency := map[string]string{}
	for _, m := range mps.Items {
		currency[m.Code] = m.Currency
	}
	for _, k := range kinds {
		for _, s := range k.Slots {
			offers := map[string]any{}
			for _, mp := range marketplaces {
				if currency[mp] == "" {
					return nil, fmt.Errorf("unknown marketplace %q", mp)
				}
				offers[mp] = map[string]any{"title": s.Title, "price": "19.99", "currency": currency[mp], "available": true}
			}
			product := map[string]any{"category": s.Category, "packQuantity": s.Pack, "packUnit": s.PackUnit, "offers": offers}
			if err := c.Do(ctx, "PUT", "/api/v1/products/"+s.ProductID, operatorKey, product, nil); err != nil {
				return nil, err
			}
		}
	}

	code := replenish.NewID("sim-", 8)
	v := &Vendor{}
	if err := c.Do(ctx, "POST", "/api/v1/vendors", operatorKey,
		map[string]string{"vendorCode": code, "name": vendorName(kinds) + " " + strings.TrimPrefix(code, "sim-")}, v); err != nil {
		return nil, err
	}
	if err := c.Do(ctx, "PUT", "/api/v1/vendor", v.APIKey, settings, nil); err != nil {
		return nil, err
	}
	for _, k := range kinds {
		if err := registerModel(ctx, c, v.APIKey, k, marketplaces); err != nil {
			return nil, fmt.Errorf("model %s: %w", k.ModelID, err)
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
		s, ok := slotOf(kinds, r.ModelID, r.SlotID)
		if !ok {
			return nil, fmt.Errorf("the vendor has a request for %s %s, which it never made", r.ModelID, r.SlotID)
		}
		if err := c.Do(ctx, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", operatorKey,
			map[string]any{"threshold": s.Threshold, "policy": replenish.PolicyThreshold}, nil); err != nil {
			return nil, err
		}
	}
	for _, k := range kinds {
		var m replenish.Model
		if err := c.Do(ctx, "GET", "/api/v1/models/"+k.ModelID, v.APIKey, nil, &m); err != nil {
			return nil, err
		}
		k.Slots = slices.Clone(k.Slots) // the kinds given stay as they were
		for i, s := range k.Slots {
			if m.Slots[i].SlotID != s.SlotID || m.Slots[i].Request == nil || m.Slots[i].Request.ReplenishmentID == "" {
				return nil, fmt.Errorf("model %s slot %s has no replenishment ID after assignment", k.ModelID, s.SlotID)
			}
			k.Slots[i].ReplenishmentID = m.Slots[i].Request.ReplenishmentID
		}
		v.Kinds = append(v.Kinds, &k)
	}
	return v, nil
}

// Certify does what certification asks of each of v's models, then has
// it certified: the vendor uploads an image (a white PNG with a mark of
// the kind's own colour), names the device and its slots in every
// marketplace the model is sold in, and submits; the operator approves.
// Then any customer of those marketplaces can link the models.
func Certify(ctx context.Context, c *Client, operatorKey string, v *Vendor, marketplaces []string) error {
	for i, k := range v.Kinds {
		model := "/api/v1/models/" + k.ModelID
		if err := c.Send(ctx, "PUT", model+"/image", v.APIKey, "image/png", picture(i), nil); err != nil {
			return err
		}
		names := map[string]string{}
		for _, s := range k.Slots {
			names[s.SlotID] = s.Name
		}
		for _, mp := range marketplaces {
			if err := c.Do(ctx, "PUT", model+"/marketplaces/"+mp+"/localization", v.APIKey,
				map[string]any{"deviceName": k.DeviceName, "slotNames": names}, nil); err != nil {
				return err
			}
		}
		if err := c.Do(ctx, "POST", model+"/certification", v.APIKey, nil, nil); err != nil {
			return err
		}
		if err := c.Do(ctx, "POST", "/api/v1/vendors/"+v.VendorCode+"/models/"+k.ModelID+"/certification/approve",
			operatorKey, map[string]any{}, nil); err != nil {
			return err
		}
	}
	return nil
}

// picture is a 64×64 PNG on white, with a square in the n-th colour.
func picture(n int) []byte {
	colors := []color.NRGBA{{0x20, 0x20, 0x20, 0xff}, {0x1e, 0x6f, 0xd9, 0xff}, {0x7a, 0x4a, 0x2a, 0xff}, {0x2a, 0x9d, 0x5c, 0xff}}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			c := color.NRGBA{0xff, 0xff, 0xff, 0xff}
			if x >= 16 && x < 48 && y >= 16 && y < 48 {
				c = colors[n%len(colors)]
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// vendorName is the maker of all the kinds, or "Simulated Appliances".
func vendorName(kinds []Kind) string {
	for _, k := range kinds {
		if k.Manufacturer != kinds[0].Manufacturer {
			return "Simulated Appliances"
		}
	}
	return kinds[0].Manufacturer
}

// registerModel creates kind k's model with its slots, marketplaces,
// product lists and submitted replenishment-ID requests.
func registerModel(ctx context.Context, c *Client, key string, k Kind, marketplaces []string) error {
	model := "/api/v1/models/" + k.ModelID
	type call struct {
		method, path string
		body         any
	}
	create := map[string]string{"kind": replenish.KindSkill, "name": k.ModelName, "modelId": k.ModelID}
	if k.ConnectKit {
		// A CONNECT_KIT model names the device type of its ACK
		// configuration: the kind of appliance, upper case.
		create["kind"], create["deviceType"] = replenish.KindConnectKit, strings.ToUpper(k.Name)
	}
	steps := []call{{"POST", "/api/v1/models", create}}
	for _, mp := range marketplaces {
		steps = append(steps, call{"PUT", model + "/marketplaces/" + mp, nil})
	}
	for i, s := range k.Slots {
		// A new model has SLOT01 without a category; the others are added.
		if i == 0 {
			steps = append(steps, call{"PATCH", model + "/slots/" + s.SlotID, map[string]string{"category": s.Category}})
		} else {
			steps = append(steps, call{"POST", model + "/slots", map[string]string{"slotId": s.SlotID, "category": s.Category}})
		}
	}
	for _, s := range k.Slots {
		for _, mp := range marketplaces {
			steps = append(steps, call{"PUT", model + "/slots/" + s.SlotID + "/products/" + mp,
				map[string]any{"productIds": []string{s.ProductID}}})
		}
		measurement := map[string]string{"type": string(s.Measure)}
		if s.Unit != "" {
			measurement["unit"] = string(s.Unit)
		}
		steps = append(steps, call{"PUT", model + "/slots/" + s.SlotID + "/replenishment-request", map[string]any{
			"sensorType": s.Sensor, "measurement": measurement,
			"description": "simulated " + strings.ToLower(s.Name) + " sensor", "submit": true}})
	}
	for _, s := range steps {
		if err := c.Do(ctx, s.method, s.path, key, s.body, nil); err != nil {
			return err
		}
	}
	return nil
}

func slotOf(kinds []Kind, modelID, slotID string) (Slot, bool) {
	for _, k := range kinds {
		for _, s := range k.Slots {
			if k.ModelID == modelID && s.SlotID == slotID {
				return s, true
			}
		}
	}
	return Slot{}, false
}

// Customer is a customer created by AddCustomer.
type Customer struct {
	CustomerID string `json:"customerId"`
	APIKey     string `json:"apiKey"`
	Name       string `json:"name"`
}

// AddCustomer creates a customer in the US, makes them a test account of
// the vendor's printer model, and links their account with the vendor
// through the real directive and token flow.
func AddCustomer(ctx context.Context, c *Client, operatorKey string, v *Vendor, name string) (*Customer, error) {
	cu, err := NewCustomer(ctx, c, operatorKey, name, "US")
	if err != nil {
		return nil, err
	}
	if err := c.Do(ctx, "PUT", "/api/v1/models/"+v.ModelID+"/marketplaces/US/test-accounts/"+cu.CustomerID,
		v.APIKey, nil, nil); err != nil {
		return nil, err
	}
	return cu, Link(ctx, c, cu, v.VendorCode)
}

// NewCustomer creates a customer in marketplace mp.
func NewCustomer(ctx context.Context, c *Client, operatorKey, name, mp string) (*Customer, error) {
	cu := &Customer{}
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "." + replenish.NewID("", 6) + "@example.com"
	if err := c.Do(ctx, "POST", "/api/v1/customers", operatorKey,
		map[string]string{"email": email, "name": name, "marketplace": mp}, cu); err != nil {
		return nil, err
	}
	return cu, nil
}

// Link links the customer's account with the vendor: Replenish sends the
// vendor's cloud AcceptGrant, then Discover.
func Link(ctx context.Context, c *Client, cu *Customer, vendorCode string) error {
	return c.Do(ctx, "POST", "/api/v1/links", cu.APIKey, map[string]string{"vendorCode": vendorCode}, nil)
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
