// Package replenish holds the domain types shared by every part of the
// service: vendors, device models, customers, endpoints, orders, and the one
// error type that carries a code, a message safe to show, and its cause.
package replenish

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to one HTTP status on the console API and to one
// Alexa exception code on the event gateway.
const (
	EInvalid      = "invalid"            // 400: a field breaks a rule
	EUnauthorized = "unauthorized"       // 401: missing, unknown or expired credentials
	EForbidden    = "forbidden"          // 403: authenticated, but not allowed
	EDisabled     = "disabled"           // 403: the customer unlinked the vendor
	ENotFound     = "not_found"          // 404
	EMethod       = "method_not_allowed" // 405: the path takes other methods
	EConflict     = "conflict"           // 409: already exists, or the state forbids it
	ELocked       = "locked"             // 423: a rule locks the change
	ENotReady     = "not_ready"          // 422: not ready for what was asked (every missing item in Fields)
	ETooLarge     = "too_large"          // 413
	EThrottled    = "throttled"          // 429: over the rate; RetryAfter says when to retry
	EVendor       = "vendor_failed"      // 502: the vendor's cloud failed or refused
	EUnavailable  = "unavailable"        // 503: storage unavailable or shutting down
	EInternal     = "internal"           // 500: a fault of ours
)

// Error is the one error type of the service. Message is safe to show to a
// client; Err, the cause, is only logged.
type Error struct {
	Code    string
	Message string
	// Fields names each offending field with what is wrong with it.
	Fields map[string]string
	// RetryAfter, when set, is how long the client should wait before
	// sending again (throttled, unavailable).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an invalid-input Error that names one field.
func FieldError(field, problem string) *Error {
	return &Error{Code: EInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// ErrorCode returns the code of err: the code of the first Error in its
// chain, or EInternal for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Fields collects field problems so that a request reports all of them at once.
type Fields map[string]string

// Add records a problem with field, keeping the first one.
func (f Fields) Add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

// Err returns an invalid-input Error listing every problem, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := ""
	for _, k := range sortedKeys(f) {
		if msg != "" {
			msg += "; "
		}
		msg += k + ": " + f[k]
	}
	return &Error{Code: EInvalid, Message: msg, Fields: f}
}
