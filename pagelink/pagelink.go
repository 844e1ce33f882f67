// Package pagelink is the wire format of the customer's management pages,
// as vendors' apps and sites link to them: the page types and the query
// parameters each needs, the exitUri rule, and the link builder that
// picks a region's base URL from a customer's locale or marketplace.
package pagelink

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"replenish"
	"replenish/catalog"
)

// The page types of Dash's management links.
const (
	Landing             = "dart_landing"
	DeviceList          = "dart_device_list"
	Settings            = "settings"
	SupplyTracking      = "sensor_tracking_selection"
	ProductSelection    = "product_selection" // another name of SupplyTracking
	InventoryManagement = "inventory_management"
	InventoryHistory    = "inventory_history"
	InstalledInventory  = "installed_inventory"
)

// Parts of the URLs, as Dash spells them.
const (
	landingReturnURL = "/dart_device_list"
	// WebPathPrefix is where the web pages are: WebPathPrefix + pageType.
	WebPathPrefix = "/drs/partner/page/"
	// AppPath is the page a mobile deep link opens; its fragment,
	// AppFragmentPrefix + pageType + "?" + query, names the page.
	AppPath           = "/spa/index.html"
	AppFragmentPrefix = "v2/drs/partner/page/"
	maxExitURI        = 2048
	maxCode           = 256
)

// Types are the page types, in the order the documentation lists them.
var Types = []string{Landing, DeviceList, Settings, SupplyTracking, ProductSelection, InventoryManagement,
	InventoryHistory, InstalledInventory}

// IsType reports whether t is a page type.
func IsType(t string) bool { return slices.Contains(Types, t) }

// Canonical returns the page a type opens: product_selection is the
// supply tracking page.
func Canonical(t string) string {
	if t == ProductSelection {
		return SupplyTracking
	}
	return t
}

// Required lists the query parameters a page type needs, in the order a
// refusal names them.
func Required(t string) []string {
	switch Canonical(t) {
	case Landing:
		return []string{"vendorCode", "modelId", "returnUrl"}
	case DeviceList:
		return []string{"vendorCode"}
	case "":
		return nil
	}
	if !IsType(t) {
		return nil
	}
	return []string{"vendorCode", "modelId", "settings"}
}

// Check reports the first required parameter of page type t that q lacks
// or gives in a form the page cannot use, as a field error naming it.
func Check(t string, q url.Values) error {
	for _, name := range Required(t) {
		v := q.Get(name)
		switch {
		case v == "":
			return replenish.FieldError(name, "required for the "+t+" page")
		case name == "settings" && v != "true":
			return replenish.FieldError(name, "must be true")
		case name == "returnUrl" && v != landingReturnURL:
			return replenish.FieldError(name, "must be "+landingReturnURL)
		case (name == "vendorCode" || name == "modelId") && (len(v) > maxCode || strings.ContainsAny(v, "\x00\r\n")):
			return replenish.FieldError(name, "is not a "+name)
		}
	}
	return nil
}

// ExitAllowed reports whether uri may be offered as the way back to a
// vendor whose console lists allowed: an absolute URI with a scheme that
// equals an entry, or starts with what comes before an entry's final *.
// Schemes that run code or read files are never allowed, whatever the
// list says.
func ExitAllowed(uri string, allowed []string) bool {
	if uri == "" || len(uri) > maxExitURI || strings.ContainsAny(uri, "\x00\r\n\t \\<>\"") {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") {
		return false
	}
	if slices.Contains([]string{"javascript", "data", "vbscript", "file", "blob"}, strings.ToLower(u.Scheme)) {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return false
	}
	for _, a := range allowed {
		if prefix, wild := strings.CutSuffix(a, "*"); wild {
			if prefix != "" && strings.HasPrefix(uri, prefix) {
				return true
			}
		} else if uri == a {
			return true
		}
	}
	return false
}

// Link is what a link to a management page carries.
type Link struct {
	PageType   string
	VendorCode string
	ModelID    string
	ExitURI    string
}

// query is the link's query string, in Dash's order.
func (l Link) query() string {
	var parts []string
	add := func(k, v string) { parts = append(parts, k+"="+url.QueryEscape(v)) }
	if l.VendorCode != "" {
		add("vendorCode", l.VendorCode)
	}
	if l.ModelID != "" && Canonical(l.PageType) != DeviceList {
		add("modelId", l.ModelID)
	}
	switch Canonical(l.PageType) {
	case Landing:
		add("returnUrl", landingReturnURL)
	case DeviceList:
	default:
		add("settings", "true")
	}
	if l.ExitURI != "" {
		add("exitUri", l.ExitURI)
	}
	return strings.Join(parts, "&")
}

// Web is the link for a browser: base + /drs/partner/page/{pageType}?...
func (l Link) Web(base string) string {
	return strings.TrimSuffix(base, "/") + WebPathPrefix + l.PageType + "?" + l.query()
}

// App is the deep link for a mobile app: base +
// /spa/index.html#v2/drs/partner/page/{pageType}?...
func (l Link) App(base string) string {
	return strings.TrimSuffix(base, "/") + AppPath + "#" + AppFragmentPrefix + l.PageType + "?" + l.query()
}

// WebPath is the web link's path and query, without a base.
func (l Link) WebPath() string { return l.Web("") }

// Validate checks a link a vendor asks the builder for: a page type, the
// parameters it needs, and an exitUri the vendor's list allows.
func (l Link) Validate(allowedExits []string) error {
	f := replenish.Fields{}
	if !IsType(l.PageType) {
		f.Add("pageType", "must be one of "+strings.Join(Types, ", "))
	} else {
		q := url.Values{}
		for k, v := range map[string]string{"vendorCode": l.VendorCode, "modelId": l.ModelID,
			"returnUrl": landingReturnURL, "settings": "true"} {
			q.Set(k, v)
		}
		var e *replenish.Error
		if err := Check(l.PageType, q); errors.As(err, &e) {
			for k, v := range e.Fields {
				f.Add(k, v)
			}
		}
	}
	if l.ExitURI != "" && !ExitAllowed(l.ExitURI, allowedExits) {
		f.Add("exitUri", "not on your allowed exit URIs (console settings); a page would not offer it")
	}
	return f.Err()
}

// Regions are the regions an instance has a base URL for.
var Regions = []string{"NA", "EU", "FE"}

// Region returns the region of a customer's locale (en-GB) or
// marketplace code (UK), as the catalog's marketplaces place them.
func Region(localeOrMarketplace string) (string, error) {
	s := strings.TrimSpace(localeOrMarketplace)
	for _, m := range catalog.Marketplaces {
		if strings.EqualFold(m.Locale, s) || strings.EqualFold(m.Code, s) {
			return m.Region, nil
		}
	}
	// A locale of a known country: de-AT is not one, but fr-BE is.
	if _, country, ok := strings.Cut(strings.ReplaceAll(s, "_", "-"), "-"); ok {
		for _, m := range catalog.Marketplaces {
			if strings.EqualFold(m.Locale[strings.Index(m.Locale, "-")+1:], country) {
				return m.Region, nil
			}
		}
		if strings.EqualFold(country, "GB") {
			return "EU", nil
		}
	}
	return "", fmt.Errorf("%q is not the locale or marketplace of a region (en-US, en-GB, ja-JP, UK, ...)", localeOrMarketplace)
}
