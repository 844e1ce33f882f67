package account

import (
	"io/fs"
	"net/http"

	"replenish"
	"replenish/pagelink"
)

// Routes adds the customer pages to mux, behind cross-origin protection:
// a form posted from another site is refused before any handler runs.
func (s *Server) Routes(mux *http.ServeMux) {
	pages := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	pages.Handle("GET /account/static/", http.StripPrefix("/account/static/", http.FileServerFS(static)))

	pages.HandleFunc("GET /account/sign-in", s.signInPage)
	pages.HandleFunc("POST /account/sign-in", s.signIn)
	pages.HandleFunc("GET /account/sign-up", s.signUpPage)
	pages.HandleFunc("POST /account/sign-up", s.signUp)
	pages.HandleFunc("POST /account/sign-out", s.signOut)

	pages.HandleFunc("GET /account/{$}", s.signedIn(s.home))
	pages.HandleFunc("GET /account/vendors", s.signedIn(s.vendors))
	pages.HandleFunc("POST /account/vendors/{vendorCode}/link", s.signedIn(s.link))
	pages.HandleFunc("POST /account/vendors/{vendorCode}/unlink", s.signedIn(s.unlink))
	pages.HandleFunc("GET /account/devices/add", s.signedIn(s.claimPage))
	pages.HandleFunc("POST /account/devices/add", s.signedIn(s.claim))
	pages.HandleFunc("POST /account/devices/{endpointId}/remove", s.signedIn(s.removeDevice))
	pages.HandleFunc("GET /account/orders", s.signedIn(s.orders))
	pages.HandleFunc("POST /account/orders/{orderId}/cancel", s.signedIn(s.cancelOrder))
	// Where the e-mail about an order leads (notifications.OrderPath).
	pages.HandleFunc("GET /orders/{orderId}", s.signedIn(s.order))
	pages.HandleFunc("GET /account/feed", s.signedIn(s.feed))
	pages.HandleFunc("POST /account/feed/read", s.signedIn(s.markRead))
	pages.HandleFunc("GET /account/notifications", s.signedIn(s.notificationSettings))
	pages.HandleFunc("POST /account/notifications", s.signedIn(s.putNotificationSettings))
	pages.HandleFunc("POST /account/notifications/calendar", s.signedIn(s.rotateCalendar))
	pages.HandleFunc("POST /account/notifications/home-assistant", s.signedIn(s.putHomeAssistant))
	pages.HandleFunc("GET /account/profile", s.signedIn(s.profile))
	pages.HandleFunc("/account/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, nil, replenish.Errorf(replenish.ENotFound, "There is no page %s.", r.URL.Path))
	})

	// The management pages, at Dash's web form and at its short form.
	pages.HandleFunc("GET "+pagelink.WebPathPrefix+"{pageType}", s.signedIn(s.manage))
	pages.HandleFunc("POST "+pagelink.WebPathPrefix+"{pageType}", s.signedIn(s.manage))
	for _, t := range pagelink.Types {
		pages.HandleFunc("GET /"+t, s.signedIn(s.manage))
		pages.HandleFunc("POST /"+t, s.signedIn(s.manage))
	}
	// The mobile deep link's page: its script reads the fragment, which
	// never reaches a server, and opens the web page it names.
	pages.HandleFunc("GET "+pagelink.AppPath, s.app)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, nil, replenish.Errorf(replenish.EForbidden, "A form from another site was refused."))
	}))
	protected := cop.Handler(pages)
	mux.Handle("/account/", protected)
	mux.Handle(pagelink.WebPathPrefix, protected)
	mux.Handle("/spa/", protected)
	mux.Handle("/orders/", protected)
	for _, t := range pagelink.Types {
		mux.Handle("/"+t, protected)
	}
}
