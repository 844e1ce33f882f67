package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"replenish"
)

func (s *Server) gatewayRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v3/events", s.acceptEvent)
}

// alexaCode maps error codes to the gateway's exception codes.
var alexaCode = map[string]string{
	replenish.EInvalid:      "INVALID_REQUEST_EXCEPTION",
	replenish.ENotFound:     "INVALID_REQUEST_EXCEPTION",
	replenish.EConflict:     "INVALID_REQUEST_EXCEPTION",
	replenish.EUnauthorized: "INVALID_ACCESS_TOKEN_EXCEPTION",
	replenish.EDisabled:     "SKILL_DISABLED_EXCEPTION",
	replenish.EForbidden:    "INSUFFICIENT_PERMISSION_EXCEPTION",
	replenish.ETooLarge:     "REQUEST_ENTITY_TOO_LARGE_EXCEPTION",
	replenish.EThrottled:    "THROTTLING_EXCEPTION",
	replenish.EUnavailable:  "SERVICE_UNAVAILABLE_EXCEPTION",
	replenish.EInternal:     "INTERNAL_SERVICE_EXCEPTION",
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
	e, status := s.problem(r, err)
	code, ok := alexaCode[e.Code]
	if !ok {
		code, status = "INTERNAL_SERVICE_EXCEPTION", http.StatusInternalServerError
	}
	if e.Code == replenish.ENotFound || e.Code == replenish.EConflict {
		status = http.StatusBadRequest
	}
	errorHeaders(w, e)
	writeJSON(w, status, map[string]any{
		"header":  map[string]string{"namespace": "System", "name": "Exception", "messageId": replenish.NewUUID()},
		"payload": map[string]string{"code": code, "description": e.Message},
	})
}
