package storage

import (
	"context"
	"time"

	"replenish"
)

// Notifications is the outbox's part of a transaction: every notification
// is written in the transaction of what caused it, and a worker delivers
// it later; and what each customer chose to hear.
type Notifications interface {
	// InsertNotification queues a notification.
	InsertNotification(ctx context.Context, n Notification) error
	// Notification returns one notification.
	Notification(ctx context.Context, id string) (Notification, error)
	// ClaimNotifications returns up to limit queued notifications due at
	// now, oldest due first, and in the order they were written when due
	// at the same time; it moves their due time to until, so that no other
	// worker takes them before then (the claim's lease), and skips those
	// another transaction is claiming. The worker records each outcome
	// with SetNotification; one it never records is due again at until.
	ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]Notification, error)
	// SetNotification records a delivery attempt: status, attempts, when
	// to try next (zero: never), the last error, when it was delivered.
	SetNotification(ctx context.Context, n Notification) error
	// ListNotifications returns the notifications f selects, newest first.
	ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
	// DeleteNotifications deletes up to limit of the oldest notifications
	// written before before that are done with (delivered, failed for
	// good, or kept), and returns how many it deleted; pending ones stay.
	DeleteNotifications(ctx context.Context, before time.Time, limit int) (int, error)
	// PendingNotifications returns how many notifications wait in the
	// outbox, by channel (channels with none are left out).
	PendingNotifications(ctx context.Context) (map[string]int, error)

	// NotificationSettings returns a customer's settings; a customer who
	// never set them has the defaults (e-mail and feed, every type).
	NotificationSettings(ctx context.Context, customerID string) (replenish.NotificationSettings, error)
	// PutNotificationSettings stores a customer's settings with the
	// webhook's signing secret.
	PutNotificationSettings(ctx context.Context, customerID string, s replenish.NotificationSettings, secret string) error
	// WebhookSecret returns the signing secret of a customer's webhook.
	WebhookSecret(ctx context.Context, customerID string) (string, error)

	// SilentEndpoints returns up to limit endpoints whose newest reading
	// of any slot is older than before, and whose customer was not told
	// of it since that reading: IDs and their newest reading's time.
	SilentEndpoints(ctx context.Context, before time.Time, limit int) ([]SilentEndpoint, error)
	// MarkSilentTold records that the customer is told at time at that
	// the endpoint stopped reporting, unless they were told since its
	// newest reading (another worker got there first): it reports whether
	// it recorded it.
	MarkSilentTold(ctx context.Context, customerID, endpointID string, newest, at time.Time) (bool, error)

	// MarkFeedRead marks a customer's feed entries read: those of ids, or
	// all when ids is empty.
	MarkFeedRead(ctx context.Context, customerID string, ids []int64, now time.Time) error
}

// SilentEndpoint is an endpoint that stopped reporting.
type SilentEndpoint struct {
	CustomerID, EndpointID string
	Newest                 time.Time // its newest reading
}

// Notification channels.
const (
	ChannelVendor   = "vendor_webhook"   // the vendor's webhookUrl
	ChannelCustomer = "customer_webhook" // the customer's webhookUrl
	ChannelEmail    = "email"            // the customer's e-mail address
	ChannelDevice   = "device"           // a CONNECT_KIT device's directives topic
)

// Notification states.
const (
	NotificationPending   = "PENDING"   // queued, or to be tried again
	NotificationDelivered = "DELIVERED" // the receiver took it
	NotificationFailed    = "FAILED"    // refused for good, or not taken for 24 hours
	NotificationKept      = "KEPT"      // an e-mail kept for the operator: no SMTP server is configured
)

// Notification is one message in the outbox, for one receiver.
type Notification struct {
	ID         string // the notificationId receivers deduplicate by
	Channel    string
	Type       string // the vendor's notificationType, or the customer's feed type
	VendorCode string
	CustomerID string
	EndpointID string
	SlotID     string
	OrderID    string
	// Target is where it goes: a URL or an e-mail address.
	Target string
	// Body is what is sent: JSON for webhooks, a rendered message for e-mail.
	Body        []byte
	Status      string
	Attempts    int
	NextAt      time.Time // zero: nothing more to try
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time
}

// NotificationFilter selects notifications; empty fields select all.
type NotificationFilter struct {
	VendorCode string
	CustomerID string
	Channel    string
	Status     string
	// Before continues a list before this notification (newest first).
	Before *NotificationCursor
	Limit  int
}

// NotificationCursor is a position in a list of notifications.
type NotificationCursor struct {
	CreatedAt time.Time
	ID        string
}
