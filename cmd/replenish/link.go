package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"replenish"
	"replenish/pagelink"
)

const linkAbout = `Prints the link to one of the customer pages that a vendor puts in its app
or on its site: the web page and the app's deep link, on the base URL of the
customer's region, picked from the customer's locale or marketplace.

  replenish link --page settings --vendor acme --model printer-1 --locale en-GB \
      --exit-uri https://acme.example/app/done

The region's base URL is --base-url-na, -eu or -fe (REPLENISH_BASE_URL_NA, ...),
else --base-url. This command works without the service: the API's
GET /api/v1/links also checks that the model is the vendor's and that the
exitUri is on its allowed list, without which a page does not offer it.
`

// linkCommand runs "replenish link".
func linkCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("link", linkAbout, stderr)
	var l pagelink.Link
	var locale, baseURL string
	var regions regionURLs
	fs.StringVar(&l.PageType, "page", pagelink.DeviceList, "the page `type`: "+strings.Join(pagelink.Types, ", "))
	fs.StringVar(&l.VendorCode, "vendor", "", "the vendor `code`")
	fs.StringVar(&l.ModelID, "model", "", "the device model's `ID` (every page but dart_device_list needs it)")
	fs.StringVar(&l.ExitURI, "exit-uri", "", "where the page sends the customer back (`URI`), one of the vendor's allowed exit URIs")
	fs.StringVar(&locale, "locale", "en-US", "the customer's `locale` or marketplace (en-GB, UK, ja-JP, ...): picks the region")
	fs.StringVar(&baseURL, "base-url", "http://127.0.0.1:8080", "the service's public `URL`, for regions without their own")
	regions.flags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if l.VendorCode == "" {
		return errors.New("--vendor: required")
	}
	if err := regions.validate(); err != nil {
		return err
	}
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--base-url: %q is not an absolute http or https URL", baseURL)
	}
	// The allow-list is the service's to check; here the exitUri need
	// only be one it could allow.
	allowed := []string{}
	if l.ExitURI != "" {
		allowed = append(allowed, l.ExitURI)
	}
	var e *replenish.Error
	if err := l.Validate(allowed); errors.As(err, &e) {
		var msgs []string
		for _, f := range [][2]string{{"pageType", "page"}, {"vendorCode", "vendor"}, {"modelId", "model"}, {"exitUri", "exit-uri"}} {
			if p, ok := e.Fields[f[0]]; ok {
				msgs = append(msgs, "--"+f[1]+": "+p)
			}
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	region, err := pagelink.Region(locale)
	if err != nil {
		return fmt.Errorf("--locale: %w", err)
	}
	base := regions[region]
	if base == "" {
		base = baseURL
	}
	fmt.Fprintf(stdout, "region %s\nweb    %s\napp    %s\n", region, l.Web(base), l.App(base))
	return nil
}
