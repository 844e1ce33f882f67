package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"replenish/customers"
	"replenish/devices"
	"replenish/simulator"
)

// kitVendor registers a vendor with a CONNECT_KIT printer model (four ink
// slots, their replenishment IDs assigned).
func kitVendor(t *testing.T, e *env) *simulator.Vendor {
	t.Helper()
	k := simulator.Kinds[0]
	k.ConnectKit = true
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.RegisterFleet(context.Background(), api, e.OperatorKey, "http://127.0.0.1:9/skill", []simulator.Kind{k}, []string{"US"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type provisioned struct {
	Devices []devices.Provisioned `json:"devices"`
}

type deviceList struct {
	Items []devices.View `json:"items"`
}

func TestDeviceProvisioning(t *testing.T) {
	e := newEnv(t)
	v := kitVendor(t, e)
	model := v.Kinds[0].ModelID
	path := "/api/v1/models/" + model + "/devices"

	var p provisioned
	e.must(http.StatusCreated, "POST", path, v.APIKey, map[string]any{
		"devices": []any{map[string]string{"serialNumber": "SN-1"}, "SN-2", map[string]string{"serialNumber": " SN-3 "}}}, &p)
	if len(p.Devices) != 3 {
		t.Fatalf("%d devices provisioned, want 3", len(p.Devices))
	}
	code := regexp.MustCompile(`^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$`)
	ids := map[string]bool{}
	for i, d := range p.Devices {
		if want := []string{"SN-1", "SN-2", "SN-3"}[i]; d.SerialNumber != want {
			t.Errorf("device %d: serial %q, want %q", i, d.SerialNumber, want)
		}
		if d.Username != d.DeviceID || len(d.Password) < 32 || !code.MatchString(d.ClaimCode) || ids[d.DeviceID] {
			t.Errorf("device %d: %+v: want username = deviceId, a 32-character password, a claim code of two groups of five", i, d)
		}
		ids[d.DeviceID] = true
	}

	// Bad input changes nothing: a serial listed twice, one the model has.
	e.refused(http.StatusBadRequest, "invalid", "devices[1].serialNumber", "POST", path, v.APIKey,
		map[string]any{"devices": []string{"SN-9", "SN-9"}})
	e.refused(http.StatusBadRequest, "invalid", "devices[1].serialNumber", "POST", path, v.APIKey,
		map[string]any{"devices": []string{"SN-10", "SN-2"}})
	e.refused(http.StatusBadRequest, "invalid", "devices", "POST", path, v.APIKey, map[string]any{"devices": []string{}})
	e.refused(http.StatusBadRequest, "invalid", "devices[0].serialNumber", "POST", path, v.APIKey,
		map[string]any{"devices": []any{map[string]any{}}})
	var list deviceList
	e.must(http.StatusOK, "GET", path, v.APIKey, nil, &list)
	if len(list.Items) != 3 || list.Items[0].SerialNumber != "SN-1" || list.Items[0].Claimed || list.Items[0].LastSeenAt != nil {
		t.Fatalf("devices after refused calls: %+v, want SN-1..3 unclaimed", list.Items)
	}
	// A SKILL model's devices talk through the vendor's cloud.
	e.must(http.StatusCreated, "POST", "/api/v1/models", v.APIKey, map[string]string{"kind": "SKILL", "name": "Cloud printer", "modelId": "CLOUD-1"}, nil)
	e.refused(http.StatusConflict, "conflict", "", "POST", "/api/v1/models/CLOUD-1/devices", v.APIKey, map[string]any{"devices": []string{"X"}})
	// Another vendor, whose model has the same ID, sees none of them.
	other := gwRegister(t, e)
	var theirs deviceList
	e.must(http.StatusOK, "GET", path, other.APIKey, nil, &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("another vendor's model of the same ID lists %+v", theirs.Items)
	}
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/devices/"+p.Devices[0].DeviceID, other.APIKey, nil)

	// Revoked, a serial number may be provisioned again, as a new device.
	e.must(http.StatusNoContent, "DELETE", "/api/v1/devices/"+p.Devices[0].DeviceID, v.APIKey, nil, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/devices/"+p.Devices[0].DeviceID, v.APIKey, nil)
	var again provisioned
	e.must(http.StatusCreated, "POST", path, v.APIKey, map[string]any{"devices": []string{"SN-1"}}, &again)
	if again.Devices[0].DeviceID == p.Devices[0].DeviceID {
		t.Fatal("a revoked device's ID was given again")
	}
	e.must(http.StatusOK, "GET", path, v.APIKey, nil, &list)
	revoked := 0
	for _, d := range list.Items {
		if d.Revoked {
			revoked++
		}
	}
	if len(list.Items) != 4 || revoked != 1 {
		t.Fatalf("devices after revoking and provisioning again: %+v, want 4 with 1 revoked", list.Items)
	}
}

func TestDeviceClaim(t *testing.T) {
	e := newEnv(t)
	e.Server.Devices.ClaimDelay = 50 * time.Millisecond
	v := kitVendor(t, e)
	model := v.Kinds[0].ModelID
	var p provisioned
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+model+"/devices", v.APIKey, map[string]any{"devices": []string{"A", "B"}}, &p)
	d := p.Devices[0]
	c := gwCustomer(t, e)

	// Not certified: only the model's test accounts claim its devices,
	// and the refused claim leaves the code working.
	e.refused(http.StatusForbidden, "forbidden", "", "POST", "/api/v1/devices/claim", c.APIKey, map[string]string{"claimCode": d.ClaimCode})
	gwTestAccount(t, e, v.APIKey, model, c)
	// Typed as a person would: lower case, a space instead of the dash.
	typed := strings.ToLower(strings.Replace(d.ClaimCode, "-", " ", 1))
	var ep customers.Endpoint
	e.must(http.StatusCreated, "POST", "/api/v1/devices/claim", c.APIKey, map[string]string{"claimCode": typed, "friendlyName": "Office printer"}, &ep)
	if ep.EndpointID != d.DeviceID || ep.FriendlyName != "Office printer" || len(ep.Slots) != len(v.Kinds[0].Slots) {
		t.Fatalf("claimed endpoint %+v: want endpointId %s named Office printer with %d slots", ep, d.DeviceID, len(v.Kinds[0].Slots))
	}
	for i, sl := range ep.Slots {
		if sl.SlotID != v.Kinds[0].Slots[i].SlotID || sl.Mode != "NOTIFY" {
			t.Errorf("slot %d: %+v, want %s in NOTIFY", i, sl, v.Kinds[0].Slots[i].SlotID)
		}
	}
	// A code works once, for anyone.
	other := gwCustomer(t, e)
	gwTestAccount(t, e, v.APIKey, model, other)
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/devices/claim", other.APIKey, map[string]string{"claimCode": d.ClaimCode})
	e.refused(http.StatusBadRequest, "invalid", "claimCode", "POST", "/api/v1/devices/claim", other.APIKey, map[string]string{})

	// A wrong code takes the same delay as a right one; five in a row and
	// the customer waits.
	start := time.Now()
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/devices/claim", other.APIKey, map[string]string{"claimCode": "ABCDE-FGHJK"})
	if took := time.Since(start); took < e.Server.Devices.ClaimDelay {
		t.Errorf("a wrong code answered in %s, before the claim delay of %s", took, e.Server.Devices.ClaimDelay)
	}
	for range 3 {
		e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/devices/claim", other.APIKey, map[string]string{"claimCode": "ABCDE-FGHJK"})
	}
	status, raw := e.do("POST", "/api/v1/devices/claim", other.APIKey, map[string]string{"claimCode": "ABCDE-FGHJK"})
	if status != http.StatusTooManyRequests {
		t.Fatalf("sixth claim after five wrong codes: %d %s, want 429", status, raw)
	}
	// Even a right code waits, but only for the customer who guessed.
	e.refused(http.StatusTooManyRequests, "throttled", "", "POST", "/api/v1/devices/claim", other.APIKey, map[string]string{"claimCode": p.Devices[1].ClaimCode})
	e.must(http.StatusCreated, "POST", "/api/v1/devices/claim", c.APIKey, map[string]string{"claimCode": p.Devices[1].ClaimCode}, nil)

	// A claimed device gets no new code; released, its old code stays
	// spent and the vendor's new one claims it.
	e.refused(http.StatusConflict, "conflict", "", "POST", "/api/v1/devices/"+d.DeviceID+"/claim-code", v.APIKey, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/endpoints/"+d.DeviceID, other.APIKey, nil)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/endpoints/"+d.DeviceID, c.APIKey, nil, nil)
	for _, got := range gwEndpoints(t, e, c) {
		if got.EndpointID == d.DeviceID {
			t.Fatalf("released device %s is still the customer's endpoint", d.DeviceID)
		}
	}
	var fresh struct{ ClaimCode string }
	e.must(http.StatusCreated, "POST", "/api/v1/devices/"+d.DeviceID+"/claim-code", v.APIKey, nil, &fresh)
	third := gwCustomer(t, e)
	gwTestAccount(t, e, v.APIKey, model, third)
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/devices/claim", third.APIKey, map[string]string{"claimCode": d.ClaimCode})
	e.must(http.StatusCreated, "POST", "/api/v1/devices/claim", third.APIKey, map[string]string{"claimCode": fresh.ClaimCode}, &ep)
	if ep.EndpointID != d.DeviceID || ep.FriendlyName == "" {
		t.Fatalf("claimed again: %+v, want %s with the model's name", ep, d.DeviceID)
	}
	var list deviceList
	e.must(http.StatusOK, "GET", "/api/v1/models/"+model+"/devices", v.APIKey, nil, &list)
	for _, got := range list.Items {
		if !got.Claimed {
			t.Errorf("device %s: claimed false, want true", got.DeviceID)
		}
	}
}
