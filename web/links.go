package web

import (
	"errors"
	"html/template"
	"maps"
	"net/http"
	"strconv"

	"replenish"
	"replenish/linking"
	"replenish/pagelink"
)

// linkRoutes are account linking: the customer's and the vendor's API
// routes, and the page a vendor's sign-in sends the customer's browser
// back to.
func (s *Server) linkRoutes(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/links", s.buildLink, vendor)
	s.api(mux, "POST /api/v1/links", s.createLink, customer)
	s.api(mux, "DELETE /api/v1/links/{vendorCode}", s.deleteLink, customer)
	s.api(mux, "DELETE /api/v1/vendor/links/{customerId}", s.revokeLink, vendor)
	mux.HandleFunc("GET "+linking.CallbackPath, s.linkCallback)
}

// PageLink is a link to a customer page, as the link builder answers it:
// URL for a browser, AppURL for a mobile app's deep link, both on the
// base URL of the customer's region.
type PageLink struct {
	PageType string `json:"pageType"`
	Region   string `json:"region"`
	URL      string `json:"url"`
	AppURL   string `json:"appUrl"`
}

// buildLink is the link builder: the vendor's link to one of its
// customers' management pages, in the customer's region (from the
// locale, or the marketplace). The page type needs its parameters, the
// model must be the vendor's, and an exitUri must be on the vendor's list.
func (s *Server) buildLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	q := r.URL.Query()
	l := pagelink.Link{PageType: q.Get("pageType"), VendorCode: p.VendorCode, ModelID: q.Get("modelId"), ExitURI: q.Get("exitUri")}
	v, err := s.Console.Vendor(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	f := replenish.Fields{}
	var invalid *replenish.Error
	if err := l.Validate(v.Settings.AllowedExitURIs); errors.As(err, &invalid) {
		maps.Copy(f, invalid.Fields)
	}
	where, param := q.Get("locale"), "locale"
	if where == "" && q.Get("marketplace") != "" {
		where, param = q.Get("marketplace"), "marketplace"
	}
	region := ""
	if where == "" {
		f.Add("locale", "required: the customer's locale (en-GB) or marketplace (UK) picks the region")
	} else if region, err = pagelink.Region(where); err != nil {
		f.Add(param, err.Error())
	}
	if err := f.Err(); err != nil {
		return err
	}
	if l.ModelID != "" {
		if _, err := s.Console.Model(r.Context(), p.VendorCode, l.ModelID); err != nil {
			return err
		}
	}
	base := s.RegionURLs[region]
	if base == "" {
		base = s.BaseURL
	}
	writeJSON(w, http.StatusOK, PageLink{PageType: l.PageType, Region: region, URL: l.Web(base), AppURL: l.App(base)})
	return nil
}

// createLink links at once (201), or answers 200 with the vendor's
// authorization URL, where the customer's browser must go to sign in.
func (s *Server) createLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		VendorCode string `json:"vendorCode"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.VendorCode == "" {
		return replenish.FieldError("vendorCode", "required")
	}
	l, err := s.Linking.Link(r.Context(), p.CustomerID, in.VendorCode)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if l.AuthorizeURL != "" {
		status = http.StatusOK
	}
	writeJSON(w, status, l)
	return nil
}

func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Linking.Unlink(r.Context(), p.CustomerID, r.PathValue("vendorCode")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeLink is the vendor ending a customer's link from its side.
func (s *Server) revokeLink(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Linking.Unlink(r.Context(), r.PathValue("customerId"), p.VendorCode); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Replenish</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:32rem;padding:0 1rem;line-height:1.5}
h1{font-size:1.5rem}.ok{color:#075}.bad{color:#a20}</style></head>
<body>
<h1 id="title" class="{{if .OK}}ok{{else}}bad{{end}}">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
<p id="next">{{.Next}}</p>
{{with .Continue}}<p><a id="continue" href="{{.}}">See your devices</a></p>{{end}}
</body></html>
`))

// linkCallback is where a vendor's sign-in page sends the customer's
// browser back. Whatever happened, the customer gets a page that says it
// and what to do next.
func (s *Server) linkCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	done, err := s.Linking.Finish(r.Context(), linking.Callback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description")})
	vendorName := done.VendorName
	if vendorName == "" {
		vendorName = "the vendor"
	}
	page := struct {
		OK                   bool
		Title, Message, Next string
		// Continue is the customer's device list of the vendor, on the
		// customer pages.
		Continue string
	}{}
	status := http.StatusOK
	switch {
	case err == nil && done.Declined:
		page.Title = "Not linked"
		page.Message = "You chose not to let Replenish see your " + vendorName + " account. Nothing was changed."
		page.Next = "To link it later, start again from Replenish. You can close this window."
	case err == nil:
		page.OK, page.Title = true, "Linked with "+vendorName
		page.Message = devicesFound(done.Link.Endpoints)
		page.Next = "Replenish will now watch their supplies. You can close this window."
		page.Continue = pagelink.Link{PageType: pagelink.DeviceList, VendorCode: done.Link.VendorCode}.WebPath()
	default:
		e, st := s.problem(r, err)
		status = st
		page.Message = e.Message
		switch e.Code {
		case replenish.EInvalid:
			page.Title = "This link cannot be used"
			if f, ok := e.Fields["state"]; ok {
				page.Message = "The sign-in's state is " + f
			}
			page.Next = "Nothing was changed. Start linking again from Replenish."
		case replenish.EVendor:
			page.Title = "Linking with " + vendorName + " failed"
			page.Next = "This is a problem at " + vendorName + ", not on your side. Try again from Replenish " +
				"in a few minutes; if it keeps failing, contact " + vendorName + "."
		default:
			page.Title = "Linking failed"
			page.Next = "Try again from Replenish in a few minutes."
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the URL carries a code
	// The page loads nothing and may not be framed.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	callbackPage.Execute(w, page)
}

func devicesFound(n int) string {
	switch n {
	case 0:
		return "No devices were found in your account yet. They appear in Replenish once the vendor reports them."
	case 1:
		return "1 device found."
	}
	return strconv.Itoa(n) + " devices found."
}
