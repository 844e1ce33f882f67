package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"replenish"
)

// deviceRoutes are the CONNECT_KIT devices' routes: provisioning,
// listing and revoking by their vendor, claiming and releasing by a
// customer.
func (s *Server) deviceRoutes(mux *http.ServeMux) {
	s.modelAPI(mux, "POST", "/{modelId}/devices", s.provisionDevices)
	s.modelAPI(mux, "GET", "/{modelId}/devices", s.listDevices)
	s.api(mux, "DELETE /api/v1/devices/{deviceId}", s.revokeDevice, vendor)
	s.api(mux, "POST /api/v1/devices/{deviceId}/claim-code", s.newClaimCode, vendor)
	s.api(mux, "POST /api/v1/devices/claim", s.claimDevice, customer)
	s.api(mux, "DELETE /api/v1/endpoints/{endpointId}", s.ownEndpoint(s.releaseDevice), customer)
}

// provisionDevices is POST .../models/{modelId}/devices: each device's
// credentials and claim code, shown this once. A device is
// {"serialNumber": "..."} or, as leniently, the serial number alone.
func (s *Server) provisionDevices(w http.ResponseWriter, r *http.Request, _ replenish.Principal, vendorCode string) error {
	var in struct {
		Devices []json.RawMessage `json:"devices"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	serials := make([]string, len(in.Devices))
	for i, raw := range in.Devices {
		var d struct {
			SerialNumber *string `json:"serialNumber"`
		}
		if err := json.Unmarshal(raw, &serials[i]); err == nil {
			serials[i] = strings.TrimSpace(serials[i])
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		field := fmt.Sprintf("devices[%d]", i)
		if err := dec.Decode(&d); err != nil {
			return replenish.FieldError(field, `must be {"serialNumber":"SN-0001"} (`+strings.TrimPrefix(err.Error(), "json: ")+")")
		}
		if d.SerialNumber == nil {
			return replenish.FieldError(field+".serialNumber", "required")
		}
		serials[i] = strings.TrimSpace(*d.SerialNumber)
	}
	out, err := s.Devices.Provision(r.Context(), vendorCode, r.PathValue("modelId"), serials)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"devices": out})
	return nil
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, _ replenish.Principal, vendorCode string) error {
	ds, err := s.Devices.List(r.Context(), vendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ds))
	return nil
}

func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Devices.Revoke(r.Context(), p.VendorCode, r.PathValue("deviceId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// newClaimCode is POST /api/v1/devices/{deviceId}/claim-code: a new code
// for an unclaimed device, such as one its customer released.
func (s *Server) newClaimCode(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct{}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	id := r.PathValue("deviceId")
	code, err := s.Devices.NewCode(r.Context(), p.VendorCode, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]string{"deviceId": id, "claimCode": code})
	return nil
}

// claimDevice is POST /api/v1/devices/claim: the device becomes the
// customer's endpoint.
func (s *Server) claimDevice(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		ClaimCode    *string `json:"claimCode"`
		FriendlyName string  `json:"friendlyName"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ClaimCode == nil {
		return replenish.FieldError("claimCode", "required: the code on the device or its box")
	}
	ep, err := s.Devices.Claim(r.Context(), p.CustomerID, *in.ClaimCode, in.FriendlyName)
	if err != nil {
		return err
	}
	es, err := s.Customers.Snapshot(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.EndpointID == ep.EndpointID {
			writeJSON(w, http.StatusCreated, e)
			return nil
		}
	}
	return replenish.Errorf(replenish.EInternal, "claimed endpoint %s is not listed", ep.EndpointID)
}

// releaseDevice is DELETE /api/v1/endpoints/{endpointId}: a customer
// gives up a CONNECT_KIT device.
func (s *Server) releaseDevice(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Devices.Release(r.Context(), p.CustomerID, r.PathValue("endpointId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
