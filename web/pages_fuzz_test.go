package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"replenish"
	"replenish/users"
)

// consoleForms are the console's form routes, each with the user who
// posts it (v: the vendor's, o: the operator's, "": nobody signed in)
// and a form it takes. Signing out is left out: it would end the
// fuzzer's session.
var consoleForms = []struct {
	who, path string
	form      url.Values
}{
	{"", "/console/sign-in", url.Values{"email": {vendorEmail}, "password": {vendorPassword}, "next": {"/console/settings"}}},
	{"v", "/console/models", url.Values{"kind": {"SKILL"}, "name": {"Printer"}, "modelId": {"p2"}}},
	{"v", "/console/models/p/marketplaces", url.Values{"marketplace": {"DE"}}},
	{"v", "/console/models/p/image", url.Values{"marketplace": {""}}},
	{"v", "/console/models/p/localization/US", url.Values{"deviceName": {"Printer"}, "slotNames.SLOT01": {"Black"}}},
	{"v", "/console/models/p/slots", url.Values{"slotId": {"SLOT02"}, "category": {"INK"}}},
	{"v", "/console/models/p/slots/SLOT02/remove", url.Values{}},
	{"v", "/console/models/p/slots/SLOT01/category", url.Values{"category": {"INK"}}},
	{"v", "/console/models/p/slots/SLOT01/products/US", url.Values{"productIds": {"INK-1"}}},
	{"v", "/console/models/p/requests", url.Values{"action": {"draft"}, "SLOT01.sensorType": {"LEVEL"},
		"SLOT01.measurementType": {"Percentage"}, "SLOT01.measurementUnit": {""}, "SLOT01.description": {"black ink"}}},
	{"v", "/console/models/p/test-accounts", url.Values{"marketplace": {"US"}, "customerId": {"c-1"}}},
	{"v", "/console/models/p/test-accounts/remove", url.Values{"marketplace": {"US"}, "customerId": {"c-1"}}},
	{"v", "/console/models/p/certification", url.Values{}},
	{"v", "/console/models/p/certification/US", url.Values{}},
	{"v", "/console/settings", url.Values{"skillEndpointUrl": {"https://skill.inkco.example/"}, "webhookUrl": {""},
		"oauthAuthorizationUrl": {""}, "oauthTokenUrl": {""}, "oauthClientId": {""}, "oauthClientSecret": {""},
		"allowedExitUris": {"https://inkco.example/done*"}}},
	{"v", "/console/settings/client-secret", url.Values{}},
	{"v", "/console/settings/api-keys", url.Values{}},
	{"v", "/console/settings/api-keys/no-such-key/revoke", url.Values{}},
	{"v", "/console/notifications/no-such-notification/redeliver", url.Values{}},
	{"o", "/console/notifications/no-such-notification/redeliver", url.Values{}},
	{"o", "/console/operator/requests/no-such-request/assign", url.Values{"policy": {"FORECAST"}, "threshold": {"10"}}},
	{"o", "/console/operator/requests/no-such-request/reject", url.Values{"reason": {"the unit is wrong"}}},
	{"o", "/console/operator/certifications/inkco/p/approve", url.Values{}},
	{"o", "/console/operator/certifications/inkco/p/reject", url.Values{"reason": {"no image"}}},
	{"o", "/console/operator/products", url.Values{"productId": {"INK-1"}, "category": {"INK"}, "packQuantity": {"1"},
		"packUnit": {"Count"}, "marketplace": {"US"}, "title": {"Black ink"}, "price": {"19.99"}, "currency": {"USD"}, "available": {"on"}}},
	{"o", "/console/operator/vendors", url.Values{"vendorCode": {"fuzzco"}, "name": {"Fuzz Co"}, "email": {"jo@fuzzco.example"},
		"password": {"a long enough password"}}},
	{"o", "/console/operator/users", url.Values{"vendorCode": {"inkco"}, "email": {"bo@inkco.example"}, "password": {"a long enough password"}}},
	{"o", "/console/operator/vendors/inkco/models/p/details", url.Values{"name": {"Printer Pro"}}},
	{"o", "/console/operator/vendors/inkco/models/p/marketplaces/DE/remove", url.Values{}},
	{"o", "/console/operator/vendors/inkco/models/other/delete", url.Values{}},
	{"o", "/console/operator/orders/no-such-order/ship", url.Values{"trackingReference": {"1Z"}}},
	{"o", "/console/operator/orders/no-such-order/deliver", url.Values{}},
	{"o", "/console/operator/orders/no-such-order/cancel", url.Values{"reason": {"out of stock"}}},
}

// fuzzBoundary is the multipart boundary of the fuzzer's multipart bodies.
const fuzzBoundary = "fuzzboundary"

// FuzzConsoleForm posts any body, as a form or as multipart, to any of the
// console's form routes, signed in as the user the route is for, through
// the real handler on a real database: no answer is a 5xx.
func FuzzConsoleForm(f *testing.F) {
	e := newEnv(f)
	vendorKey := createVendor(f, e, "inkco")
	for _, u := range []users.NewUser{
		{Email: opEmail, Password: opPassword, Role: replenish.RoleOperator},
		{Email: vendorEmail, Password: vendorPassword, Role: replenish.RoleVendor, VendorCode: "inkco"},
	} {
		if _, err := e.Server.Users.Create(f.Context(), u); err != nil {
			f.Fatal(err)
		}
	}
	for _, id := range []string{"p", "other"} {
		e.must(http.StatusCreated, "POST", "/api/v1/models", vendorKey, map[string]string{"kind": "SKILL", "name": "Printer", "modelId": id}, nil)
		e.must(http.StatusOK, "PUT", "/api/v1/models/"+id+"/marketplaces/US", vendorKey, nil, nil)
	}
	cookies := map[string]string{}
	for who, u := range map[string][2]string{"v": {vendorEmail, vendorPassword}, "o": {opEmail, opPassword}} {
		s, err := e.Server.Users.SignIn(f.Context(), u[0], u[1])
		if err != nil {
			f.Fatal(err)
		}
		cookies[who] = s.Token
	}
	h := e.Server.Handler()

	png, err := os.ReadFile(whitePNG(f))
	if err != nil {
		f.Fatal(err)
	}
	for i, c := range consoleForms {
		f.Add(uint8(i), false, []byte(c.form.Encode()))
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.SetBoundary(fuzzBoundary)
		for k, vs := range c.form {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		if strings.HasSuffix(c.path, "/image") {
			fw, _ := mw.CreateFormFile("image", "printer.png")
			fw.Write(png)
		}
		mw.Close()
		f.Add(uint8(i), true, buf.Bytes())
	}

	f.Fuzz(func(t *testing.T, which uint8, isMultipart bool, body []byte) {
		c := consoleForms[int(which)%len(consoleForms)]
		req := httptest.NewRequest("POST", c.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if isMultipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		}
		if c.who != "" {
			req.AddCookie(&http.Cookie{Name: "replenish_session", Value: cookies[c.who]})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s (multipart %t) with %q: %d\n%s", c.path, isMultipart, body, rec.Code, rec.Body)
		}
	})
}
