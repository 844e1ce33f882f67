package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"replenish/simulator"
	"replenish/web"
)

// TestLinkBuilder: a vendor asks for the link to a customer page; the
// region comes from the locale or the marketplace, the page's parameters
// and the exitUri are checked.
func TestLinkBuilder(t *testing.T) {
	e := newEnv(t)
	e.Server.BaseURL = "https://na.example"
	e.Server.RegionURLs = map[string]string{"EU": "https://eu.example"}
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.Register(context.Background(), api, e.OperatorKey, "https://cloud.example/skill", 10)
	if err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/vendor", v.APIKey, map[string]any{"skillEndpointUrl": "https://cloud.example/skill",
		"allowedExitUris": []string{"https://cloud.example/app/*"}}, nil)

	get := func(q url.Values) (int, web.PageLink) {
		t.Helper()
		var l web.PageLink
		e.must(http.StatusOK, "GET", "/api/v1/links?"+q.Encode(), v.APIKey, nil, &l)
		return http.StatusOK, l
	}
	status, l := get(url.Values{"pageType": {"inventory_history"}, "locale": {"en-GB"}, "modelId": {v.ModelID},
		"exitUri": {"https://cloud.example/app/done"}})
	want := "https://eu.example/drs/partner/page/inventory_history?vendorCode=" + v.VendorCode + "&modelId=" + v.ModelID +
		"&settings=true&exitUri=https%3A%2F%2Fcloud.example%2Fapp%2Fdone"
	if status != http.StatusOK || l.Region != "EU" || l.URL != want {
		t.Errorf("EU link: %d %+v\nwant %s", status, l, want)
	}
	if l.AppURL != "https://eu.example/spa/index.html#v2/drs/partner/page/inventory_history?vendorCode="+v.VendorCode+
		"&modelId="+v.ModelID+"&settings=true&exitUri=https%3A%2F%2Fcloud.example%2Fapp%2Fdone" {
		t.Errorf("app link %s", l.AppURL)
	}
	status, l = get(url.Values{"pageType": {"dart_device_list"}, "marketplace": {"US"}})
	if status != http.StatusOK || l.Region != "NA" || l.URL != "https://na.example/drs/partner/page/dart_device_list?vendorCode="+v.VendorCode {
		t.Errorf("NA link: %d %+v", status, l)
	}
	for _, tc := range []struct {
		q      url.Values
		status int
		code   string
		field  string
	}{
		{url.Values{"pageType": {"settings"}, "locale": {"en-US"}}, 400, "invalid", "modelId"},
		{url.Values{"pageType": {"nope"}, "locale": {"en-US"}}, 400, "invalid", "pageType"},
		{url.Values{"pageType": {"dart_device_list"}}, 400, "invalid", "locale"},
		{url.Values{"pageType": {"dart_device_list"}, "locale": {"xx-QQ"}}, 400, "invalid", "locale"},
		{url.Values{"pageType": {"dart_device_list"}, "locale": {"en-US"}, "exitUri": {"https://evil.example/"}}, 400, "invalid", "exitUri"},
		{url.Values{"pageType": {"settings"}, "locale": {"en-US"}, "modelId": {"not-mine"}}, 404, "not_found", ""},
	} {
		e.refused(tc.status, tc.code, tc.field, "GET", "/api/v1/links?"+tc.q.Encode(), v.APIKey, nil)
	}
}
