package pagelink

import (
	"net/url"
	"testing"

	"replenish"
)

func TestCheckNamesTheMissingParameter(t *testing.T) {
	full := url.Values{"vendorCode": {"acme"}, "modelId": {"p1"}, "settings": {"true"}, "returnUrl": {"/dart_device_list"}}
	for _, tc := range []struct {
		page, drop, set, value, want string
	}{
		{page: Landing, drop: "returnUrl", want: "returnUrl"},
		{page: Landing, set: "returnUrl", value: "https://evil.example/", want: "returnUrl"},
		{page: Landing, drop: "modelId", want: "modelId"},
		{page: DeviceList, drop: "vendorCode", want: "vendorCode"},
		{page: DeviceList, drop: "modelId"},
		{page: DeviceList, drop: "settings"},
		{page: Settings, drop: "settings", want: "settings"},
		{page: Settings, set: "settings", value: "yes", want: "settings"},
		{page: ProductSelection, drop: "modelId", want: "modelId"},
		{page: InventoryHistory, set: "vendorCode", value: "a\nb", want: "vendorCode"},
		{page: InstalledInventory, drop: "returnUrl"},
		{page: InventoryManagement},
	} {
		q := url.Values{}
		for k, v := range full {
			q[k] = v
		}
		if tc.drop != "" {
			q.Del(tc.drop)
		}
		if tc.set != "" {
			q.Set(tc.set, tc.value)
		}
		err := Check(tc.page, q)
		var e *replenish.Error
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s without %s: %v, want accepted", tc.page, tc.drop, err)
		case tc.want != "" && (err == nil || !asError(err, &e) || e.Fields[tc.want] == ""):
			t.Errorf("%s (%s%s=%q): %v, want a refusal naming %s", tc.page, tc.drop, tc.set, tc.value, err, tc.want)
		}
	}
}

func asError(err error, e **replenish.Error) bool {
	x, ok := err.(*replenish.Error)
	*e = x
	return ok
}

func TestExitAllowed(t *testing.T) {
	list := []string{"https://acme.example/done", "acmeapp://back*", "https://acme.example/app/*"}
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"https://acme.example/done", true},
		{"https://acme.example/done?x=1", false},
		{"https://acme.example/app/settings?ok=1", true},
		{"https://acme.example/app", false},
		{"acmeapp://back", true},
		{"acmeapp://back/to/device", true},
		{"https://evil.example/done", false},
		{"https://acme.example.evil.example/done", false},
		{"//acme.example/done", false},
		{"/done", false},
		{"javascript:alert(1)", false},
		{"", false},
		{"https://acme.example/done\n", false},
	} {
		if got := ExitAllowed(tc.uri, list); got != tc.want {
			t.Errorf("ExitAllowed(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
	if ExitAllowed("javascript:x", []string{"javascript:*"}) {
		t.Error("a javascript: exit was allowed because the list said so")
	}
	if ExitAllowed("https://any.example/", []string{"*"}) {
		t.Error("a lone * allowed any exit")
	}
}

func TestLinks(t *testing.T) {
	l := Link{PageType: Settings, VendorCode: "acme", ModelID: "p 1", ExitURI: "https://acme.example/done?a=b"}
	if got, want := l.Web("https://eu.example/"), "https://eu.example/drs/partner/page/settings?vendorCode=acme&modelId=p+1&settings=true&exitUri=https%3A%2F%2Facme.example%2Fdone%3Fa%3Db"; got != want {
		t.Errorf("web link\n got %s\nwant %s", got, want)
	}
	if got, want := l.App("https://eu.example"), "https://eu.example/spa/index.html#v2/drs/partner/page/settings?vendorCode=acme&modelId=p+1&settings=true&exitUri=https%3A%2F%2Facme.example%2Fdone%3Fa%3Db"; got != want {
		t.Errorf("app link\n got %s\nwant %s", got, want)
	}
	land := Link{PageType: Landing, VendorCode: "acme", ModelID: "p1", ExitURI: "https://acme.example/done"}
	if got, want := land.WebPath(), "/drs/partner/page/dart_landing?vendorCode=acme&modelId=p1&returnUrl=%2Fdart_device_list&exitUri=https%3A%2F%2Facme.example%2Fdone"; got != want {
		t.Errorf("landing link %s, want %s", got, want)
	}
	list := Link{PageType: DeviceList, VendorCode: "acme", ModelID: "p1"}
	if got, want := list.WebPath(), "/drs/partner/page/dart_device_list?vendorCode=acme"; got != want {
		t.Errorf("device list link %s, want %s", got, want)
	}
	if err := (Link{PageType: "nope", VendorCode: "acme"}).Validate(nil); err == nil {
		t.Error("an unknown page type was accepted")
	}
	if err := (Link{PageType: Settings, VendorCode: "acme"}).Validate(nil); err == nil {
		t.Error("a settings link without modelId was accepted")
	}
	if err := l.Validate([]string{"https://acme.example/*"}); err != nil {
		t.Errorf("an allowed link was refused: %v", err)
	}
	if err := l.Validate([]string{"https://acme.example/other"}); err == nil {
		t.Error("an exitUri outside the list was accepted")
	}
}

func TestRegion(t *testing.T) {
	for in, want := range map[string]string{"en-GB": "EU", "UK": "EU", "ja-JP": "FE", "en-US": "NA", "us": "NA",
		"de_DE": "EU", "fr-BE": "EU", "en-AU": "FE", "es-MX": "NA"} {
		if got, err := Region(in); err != nil || got != want {
			t.Errorf("Region(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xx", "en-ZZ"} {
		if got, err := Region(in); err == nil {
			t.Errorf("Region(%q) = %q, want an error", in, got)
		}
	}
}
