// Package web is Replenish over HTTP: the JSON API, the event gateway,
// the token endpoint, account linking and the console's web pages, each
// in a routes file of its own, sharing one way to decode requests and one
// way to write errors.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"replenish"
	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/gateway"
	"replenish/homeassistant"
	"replenish/linking"
	"replenish/metrics"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage"
	"replenish/users"
)

// MaxBody is the largest request body read, on every route (1 MiB).
const MaxBody = 1 << 20

// Server holds what the handlers need.
type Server struct {
	Store     storage.Store
	Console   *console.Service
	Customers *customers.Service
	Orders    *orders.Service
	// Notifications are the outbox, the customers' settings and the feed.
	Notifications *notifications.Service
	// Calendar is the customers' calendar feeds.
	Calendar *calendar.Service
	// HomeAssistant is told when a customer changes their bridge (nil:
	// no bridge runs in this process).
	HomeAssistant *homeassistant.Bridge
	// FulfilmentKey is the API key of the commerce system behind the
	// webhook fulfilment adapter ("" for none).
	FulfilmentKey string
	Gateway       *gateway.Service
	// Devices provisions and claims CONNECT_KIT devices.
	Devices *devices.Service
	Linking *linking.Service
	Users   *users.Service
	Log     *slog.Logger
	// BaseURL is the service's public URL; an https one makes the
	// session cookie Secure even behind a proxy that ends TLS.
	BaseURL string
	// RegionURLs are the public URLs of the regions (NA, EU, FE) that
	// have one of their own, for links to customer pages; others use
	// BaseURL.
	RegionURLs map[string]string

	// Surfaces are other sets of web pages served beside these (the
	// customer pages), each adding its routes to the same mux.
	Surfaces []Surface

	// apiPatterns are the API routes registered, for the OpenAPI check.
	apiPatterns []string

	// closing is set while the server shuts down; the gateway then
	// refuses new events with 503 so that vendors retry elsewhere or later.
	closing atomic.Bool
}

// Closing marks the server as shutting down.
func (s *Server) Closing() { s.closing.Store(true) }

// Handler returns every route, wrapped in request IDs and logging.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Store.Ping(r.Context()); err != nil {
			s.Log.Error("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "storage unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", metrics.Handler(s.gauges))
	s.apiRoutes(mux)
	s.imageRoutes(mux)
	s.gatewayRoutes(mux)
	s.calendarRoutes(mux)
	s.authRoutes(mux)
	s.linkRoutes(mux)
	s.userAPIRoutes(mux)
	s.pageRoutes(mux)
	for _, sf := range s.Surfaces {
		sf.Routes(mux)
	}
	return s.logged(mux)
}

// gauges reads what /metrics reports from the database.
func (s *Server) gauges(ctx context.Context) (orders, outbox map[string]int, err error) {
	err = s.Store.Read(ctx, func(tx storage.Tx) error {
		if orders, err = tx.OrderCounts(ctx); err != nil {
			return err
		}
		outbox, err = tx.PendingNotifications(ctx)
		return err
	})
	return orders, outbox, err
}

// Surface is a set of web pages with routes of its own.
type Surface interface {
	Routes(mux *http.ServeMux)
}

type ctxKey int

const requestIDKey ctxKey = iota

// logged gives each request an ID (kept from X-Request-Id when sent) and
// logs it once it is answered.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = replenish.NewID("", 16)
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		// The mux names the pattern that matched on the request it is given.
		req := r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		next.ServeHTTP(rec, req)
		took := time.Since(start)
		metrics.Request(req.Pattern, r.Method, rec.status, took)
		s.Log.Debug("request", "id", id, "method", r.Method, "path", r.URL.Path, "route", req.Pattern,
			"status", rec.status, "duration", took)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// decode reads a JSON body of at most MaxBody bytes into v, refusing
// unknown fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return replenish.Errorf(replenish.ETooLarge, "the body is over %d bytes", MaxBody)
		case errors.Is(err, io.EOF):
			return replenish.FieldError("body", "a JSON object is required")
		case errors.As(err, &syntax):
			return replenish.FieldError("body", fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
		case errors.As(err, &typ) && typ.Field == "":
			// The body itself is not an object: an array, a string, a number.
			return replenish.FieldError("body", "a JSON object is required")
		case errors.As(err, &typ):
			return replenish.FieldError(typ.Field, "must be "+jsonType(typ.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			if field == "" {
				return replenish.FieldError("body", "a JSON field with an empty name")
			}
			return replenish.FieldError(field, "unknown field")
		default:
			return replenish.FieldError("body", "malformed JSON")
		}
	}
	if dec.More() {
		return replenish.FieldError("body", "one JSON object only")
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "a number"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// Status returns the HTTP status of an error code (500 for a code it
// does not know): the one mapping every HTTP surface answers with.
func Status(code string) int {
	if status, ok := statusOf[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// statusOf maps error codes to HTTP statuses.
var statusOf = map[string]int{
	replenish.EInvalid:      http.StatusBadRequest,
	replenish.EUnauthorized: http.StatusUnauthorized,
	replenish.EForbidden:    http.StatusForbidden,
	replenish.EDisabled:     http.StatusForbidden,
	replenish.ENotFound:     http.StatusNotFound,
	replenish.EMethod:       http.StatusMethodNotAllowed,
	replenish.EConflict:     http.StatusConflict,
	replenish.ELocked:       http.StatusLocked,
	replenish.ENotReady:     http.StatusUnprocessableEntity,
	replenish.ETooLarge:     http.StatusRequestEntityTooLarge,
	replenish.EThrottled:    http.StatusTooManyRequests,
	replenish.EVendor:       http.StatusBadGateway,
	replenish.EUnavailable:  http.StatusServiceUnavailable,
	replenish.EInternal:     http.StatusInternalServerError,
}

// problem turns err into its code, status and a message safe to show,
// logging internal errors once with the request's ID.
func (s *Server) problem(r *http.Request, err error) (*replenish.Error, int) {
	var e *replenish.Error
	if !errors.As(err, &e) || e.Code == replenish.EInternal {
		s.Log.Error("internal error", "id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		e = &replenish.Error{Code: replenish.EInternal, Message: "internal error; the request ID is " + requestID(r.Context())}
	} else if e.Err != nil {
		s.Log.Warn("request failed", "id", requestID(r.Context()), "code", e.Code, "err", err)
	}
	status := Status(e.Code)
	return e, status
}

// writeError writes err in the console's error shape.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, status := s.problem(r, err)
	errorHeaders(w, e)
	body := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	writeJSON(w, status, map[string]any{"error": body})
}

// errorHeaders sets the headers an error needs. Retry-After tells the
// client when to try again: as the error says, or after 5 seconds when
// storage is unavailable or the server shuts down. A body over the limit
// closes the connection: otherwise the server would read the rest of it
// before answering, since the logging wrapper hides the limit from it.
func errorHeaders(w http.ResponseWriter, e *replenish.Error) {
	wait := e.RetryAfter
	if wait == 0 && e.Code == replenish.EUnavailable {
		wait = 5 * time.Second
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	if e.Code == replenish.ETooLarge {
		w.Header().Set("Connection", "close")
	}
}
