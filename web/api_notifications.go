package web

// The routes of notifications: the vendor's webhook deliveries, the
// customer's settings and feed.

import (
	"net/http"

	"replenish"
	"replenish/notifications"
)

func (s *Server) notificationRoutes(mux *http.ServeMux) {
	s.api(mux, "GET /api/v1/notifications", s.listNotifications, operator, vendor)
	s.api(mux, "POST /api/v1/notifications/{notificationId}/redeliver", s.redeliver, operator, vendor)
	s.api(mux, "GET /api/v1/notification-settings", s.getNotificationSettings, customer)
	s.api(mux, "PUT /api/v1/notification-settings", s.putNotificationSettings, customer)
	s.api(mux, "POST /api/v1/feed/read", s.readFeed, customer)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ds, next, err := s.Notifications.List(r.Context(), p, notifications.Query{Channel: q.Get("channel"),
		Status: q.Get("status"), VendorCode: q.Get("vendorCode"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[notifications.Delivery]{Items: ds, NextCursor: next})
	return nil
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	d, err := s.Notifications.Redeliver(r.Context(), p, r.PathValue("notificationId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) getNotificationSettings(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	set, err := s.Notifications.Settings(r.Context(), p.CustomerID, s.HomeAssistant.OwnBroker())
	if err != nil {
		return err
	}
	return s.writeSettings(w, r, p, set)
}

// settingsAnswer is a customer's notification settings with the address
// of their calendar feed.
type settingsAnswer struct {
	notifications.SettingsView
	CalendarURL string `json:"calendarUrl"`
}

func (s *Server) writeSettings(w http.ResponseWriter, r *http.Request, p replenish.Principal, set notifications.SettingsView) error {
	token, err := s.Calendar.Token(r.Context(), p.CustomerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsAnswer{SettingsView: set, CalendarURL: s.calendarURL(r, token)})
	return nil
}

func (s *Server) putNotificationSettings(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in notifications.SettingsInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	out, err := s.Notifications.PutSettings(r.Context(), p.CustomerID, in, s.HomeAssistant.OwnBroker())
	if err != nil {
		return err
	}
	if in.HomeAssistant != nil && s.HomeAssistant != nil {
		s.HomeAssistant.Changed(p.CustomerID)
	}
	return s.writeSettings(w, r, p, out)
}

func (s *Server) readFeed(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	if err := s.Notifications.MarkRead(r.Context(), p.CustomerID, in.IDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
