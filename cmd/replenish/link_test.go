package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestLinkCommand(t *testing.T) {
	env := map[string]string{"REPLENISH_BASE_URL_EU": "https://eu.replenish.example"}
	getenv := func(k string) string { return env[k] }
	var out, errs bytes.Buffer
	err := run(t.Context(), []string{"replenish", "link", "--page", "settings", "--vendor", "acme", "--model", "p1",
		"--locale", "en-GB", "--exit-uri", "acmeapp://done"}, getenv, &out, &errs)
	if err != nil {
		t.Fatalf("link: %v\n%s", err, errs.String())
	}
	for _, want := range []string{"region EU",
		"web    https://eu.replenish.example/drs/partner/page/settings?vendorCode=acme&modelId=p1&settings=true&exitUri=acmeapp%3A%2F%2Fdone",
		"app    https://eu.replenish.example/spa/index.html#v2/drs/partner/page/settings?vendorCode=acme&modelId=p1&settings=true&exitUri=acmeapp%3A%2F%2Fdone"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	// A region without its own URL uses --base-url.
	if err := run(t.Context(), []string{"replenish", "link", "--vendor", "acme", "--locale", "ja-JP", "--base-url", "https://all.example"},
		getenv, &out, &errs); err != nil || !strings.Contains(out.String(), "web    https://all.example/drs/partner/page/dart_device_list?vendorCode=acme\n") {
		t.Errorf("FE link: %v\n%s", err, out.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--vendor", "acme", "--page", "settings"}, "--model: required"},
		{[]string{"--vendor", "acme", "--page", "nope"}, "--page: must be one of"},
		{[]string{"--page", "settings", "--model", "m"}, "--vendor: required"},
		{[]string{"--vendor", "acme", "--locale", "xx"}, "--locale:"},
		{[]string{"--vendor", "acme", "--exit-uri", "javascript:alert(1)"}, "--exit-uri:"},
	} {
		err := run(t.Context(), append([]string{"replenish", "link"}, tc.args...), getenv, &out, &errs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
