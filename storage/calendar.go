package storage

import (
	"context"
	"time"
)

// Calendars is the calendar feeds' part of a transaction: one secret
// token per customer, which names the customer's feed.
type Calendars interface {
	// CalendarToken returns a customer's feed token (not found when the
	// customer has none yet).
	CalendarToken(ctx context.Context, customerID string) (string, error)
	// PutCalendarToken sets a customer's feed token, replacing (and so
	// invalidating) the one before.
	PutCalendarToken(ctx context.Context, customerID, token string, now time.Time) error
	// CalendarCustomer returns the customer whose token has this SHA-256
	// hash (not found when none has).
	CalendarCustomer(ctx context.Context, hash []byte) (string, error)
}
