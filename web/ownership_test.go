package web_test

import (
	"net/http"
	"testing"

	"replenish"
)

// TestOwnershipBeforeBody: a vendor or customer who is not the owner is
// told "not found" before the body is read: nobody learns what is wrong
// with a body for another's model or device.
func TestOwnershipBeforeBody(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	var other struct{ APIKey string }
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", e.OperatorKey, map[string]string{"vendorCode": "otherco", "name": "Other Co"}, &other)
	stranger := gwCustomer(t, e)
	bad := []byte(`{"malformed":`)
	model := "/api/v1/models/" + w.v.ModelID
	for _, path := range []struct{ method, path string }{
		{"PATCH", model},
		{"PUT", model + "/image"},
		{"PUT", model + "/marketplaces/US/image"},
		{"PUT", model + "/marketplaces/US/localization"},
		{"POST", model + "/slots"},
		{"PATCH", model + "/slots/SLOT01"},
		{"PUT", model + "/slots/SLOT01/products/US"},
		{"PUT", model + "/slots/SLOT01/replenishment-request"},
	} {
		e.refused(http.StatusNotFound, replenish.ENotFound, "", path.method, path.path, other.APIKey, bad)
		// The owner is told what is wrong with the body.
		if status, _ := e.do(path.method, path.path, w.v.APIKey, bad); status == http.StatusNotFound {
			t.Errorf("%s %s: the owner's malformed body is not found", path.method, path.path)
		}
	}
	ep := "/api/v1/endpoints/" + w.ep
	for _, path := range []struct{ method, path string }{
		{"PATCH", ep},
		{"PUT", ep + "/slots/SLOT01/subscription"},
		{"PUT", ep + "/slots/SLOT01/household-inventory"},
		{"PUT", ep + "/slots/SLOT01/installed"},
	} {
		e.refused(http.StatusNotFound, replenish.ENotFound, "", path.method, path.path, stranger.APIKey, bad)
		e.refused(http.StatusBadRequest, replenish.EInvalid, "body", path.method, path.path, w.c.APIKey, bad)
	}
	e.refused(http.StatusNotFound, replenish.ENotFound, "", "PUT", ep+"/slots/NOPE/subscription", w.c.APIKey, bad)
}
