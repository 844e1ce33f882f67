package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"replenish"
	"replenish/gateway"
)

func (s *Server) gatewayRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v3/events", s.acceptEvent)
}

// acceptEvent is POST /v3/events: 202 with an empty body once the event
// is durably stored.
func (s *Server) acceptEvent(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		s.writeException(w, r, replenish.Errorf(replenish.EUnavailable, "the service is shutting down; retry shortly"))
		return
	}
	if r.ContentLength > MaxBody {
		// Refused on its declared length, before a byte of it is read.
		s.writeException(w, r, replenish.Errorf(replenish.ETooLarge, "the body is over %d bytes", MaxBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = replenish.Errorf(replenish.ETooLarge, "the body is over %d bytes", MaxBody)
		} else {
			err = replenish.FieldError("body", "could not be read")
		}
		s.writeException(w, r, err)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err := s.Gateway.Accept(r.Context(), strings.TrimSpace(token), body); err != nil {
		s.writeException(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// writeException writes err as an Alexa System.Exception.
func (s *Server) writeException(w http.ResponseWriter, r *http.Request, err error) {
	e, _ := s.problem(r, err)
	code, status := gateway.Exception(e.Code)
	errorHeaders(w, e)
	writeJSON(w, status, map[string]any{
		"header":  map[string]string{"namespace": "System", "name": "Exception", "messageId": replenish.NewUUID()},
		"payload": map[string]string{"code": code, "description": e.Message},
	})
}
