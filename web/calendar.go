package web

// The customer's calendar feed, at a secret address outside the API (a
// calendar application sends no key), and the API route that gives it a
// new address.

import (
	"net/http"
	"strings"

	"replenish"
	"replenish/calendar"
)

func (s *Server) calendarRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /calendar/{file}", s.calendarFeed)
	s.api(mux, "POST /api/v1/calendar-token", s.rotateCalendarToken, customer)
}

// calendarFeed answers the iCalendar feed its token names; an unknown
// token, or a file not ending in .ics, is not found.
func (s *Server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || token == "" {
		s.writeError(w, r, &replenish.Error{Code: replenish.ENotFound, Message: "calendar not found"})
		return
	}
	body, err := s.Calendar.Feed(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	// The address is a secret: no shared cache keeps the feed.
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Content-Disposition", `inline; filename="replenish.ics"`)
	w.Write(body)
}

// calendarAnswer is the answer of POST /api/v1/calendar-token.
type calendarAnswer struct {
	CalendarURL string `json:"calendarUrl"`
}

func (s *Server) rotateCalendarToken(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	token, err := s.Calendar.Rotate(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, calendarAnswer{CalendarURL: s.calendarURL(r, token)})
	return nil
}

// calendarURL is the whole address of the feed that token names: on the
// service's public URL, or, without one, on the host the request came to.
func (s *Server) calendarURL(r *http.Request, token string) string {
	return calendar.URL(publicBase(s.BaseURL, r), token)
}

// publicBase is base, or without one the scheme and host r came to.
func publicBase(base string, r *http.Request) string {
	if base != "" {
		return base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
