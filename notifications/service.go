package notifications

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// SettingsInput is a change of a customer's notification settings; a
// field left out keeps its value.
type SettingsInput struct {
	Email      *bool           `json:"email"`
	Feed       *bool           `json:"feed"`
	WebhookURL *string         `json:"webhookUrl"`
	Types      map[string]bool `json:"types"`
	// CalendarURL is read-only: accepted, so that the settings as
	// answered can be sent back changed, and ignored.
	CalendarURL *string `json:"calendarUrl"`
	// HomeAssistant turns the Home Assistant bridge on or off, or
	// changes its broker.
	HomeAssistant *HomeAssistantInput `json:"homeAssistant"`
}

// SettingsView is a customer's settings as answered; WebhookSecret is
// shown once, when a new webhook URL was set.
type SettingsView struct {
	replenish.NotificationSettings
	WebhookSecret string            `json:"webhookSecret,omitempty"`
	HomeAssistant HomeAssistantView `json:"homeAssistant"`
}

// Settings returns a customer's notification settings, with their Home
// Assistant bridge; ownBroker is where Home Assistant reaches this
// Replenish's own MQTT broker ("" when it runs none, see
// homeassistant.Bridge.OwnBroker).
func (s *Service) Settings(ctx context.Context, customerID, ownBroker string) (SettingsView, error) {
	var out SettingsView
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		set, err := tx.NotificationSettings(ctx, customerID)
		if err != nil {
			return err
		}
		h, err := homeAssistant(ctx, tx, customerID)
		out = SettingsView{NotificationSettings: set, HomeAssistant: homeAssistantView(h, ownBroker, "")}
		return err
	})
	return out, err
}

// PutSettings changes a customer's settings. A new webhook URL gets a new
// signing secret, answered this once; removing the URL drops the secret.
// So does a new account on Replenish's own broker, at ownBroker ("" for
// none: the Home Assistant bridge cannot be embedded), get a password.
func (s *Service) PutSettings(ctx context.Context, customerID string, in SettingsInput, ownBroker string) (SettingsView, error) {
	f := replenish.Fields{}
	types := map[string]bool{}
	for k, on := range in.Types {
		t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(k), " ", "_"))
		if !slices.Contains(replenish.FeedTypes, t) {
			f.Add("types."+k, "not a notification type: "+strings.Join(replenish.FeedTypes, ", "))
			continue
		}
		types[t] = on
	}
	if in.WebhookURL != nil {
		*in.WebhookURL = strings.TrimSpace(*in.WebhookURL)
		if u := *in.WebhookURL; u != "" {
			if problem := replenish.WebURLProblem(u); problem != "" {
				f.Add("webhookUrl", problem)
			}
		}
	}
	broker := checkHomeAssistant(in.HomeAssistant, f)
	if err := f.Err(); err != nil {
		return SettingsView{}, err
	}
	var out SettingsView
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		set, err := tx.NotificationSettings(ctx, customerID)
		if err != nil {
			return err
		}
		secret, err := tx.WebhookSecret(ctx, customerID)
		if err != nil {
			return err
		}
		if in.Email != nil {
			set.Email = *in.Email
		}
		if in.Feed != nil {
			set.Feed = *in.Feed
		}
		for t, on := range types {
			set.Types[t] = on
		}
		out = SettingsView{}
		if in.WebhookURL != nil && *in.WebhookURL != set.WebhookURL {
			set.WebhookURL, secret = *in.WebhookURL, ""
			if set.WebhookURL != "" {
				secret = replenish.NewSecret("whsec_")
				out.WebhookSecret = secret
			}
		}
		out.NotificationSettings = set
		h, password, err := putHomeAssistant(ctx, tx, customerID, in.HomeAssistant, broker, ownBroker, s.now())
		if err != nil {
			return err
		}
		out.HomeAssistant = homeAssistantView(h, ownBroker, password)
		return tx.PutNotificationSettings(ctx, customerID, set, secret)
	})
	return out, err
}

// MarkRead marks a customer's feed entries read: those of ids, or all.
func (s *Service) MarkRead(ctx context.Context, customerID string, ids []int64) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		return tx.MarkFeedRead(ctx, customerID, ids, s.now())
	})
}

// Delivery is a notification as its vendor, or the operator, sees it.
type Delivery struct {
	NotificationID string          `json:"notificationId"`
	Channel        string          `json:"channel"`
	Type           string          `json:"notificationType"`
	VendorCode     string          `json:"vendorCode,omitempty"`
	CustomerID     string          `json:"customerId,omitempty"`
	Target         string          `json:"target"`
	Status         string          `json:"status"`
	Attempts       int             `json:"attempts"`
	LastError      string          `json:"lastError,omitempty"`
	NextAttemptAt  *time.Time      `json:"nextAttemptAt,omitempty"`
	CreatedAt      time.Time       `json:"createdAt"`
	DeliveredAt    *time.Time      `json:"deliveredAt,omitempty"`
	Body           json.RawMessage `json:"body"`
}

func delivery(n storage.Notification) Delivery {
	d := Delivery{NotificationID: n.ID, Channel: n.Channel, Type: n.Type, VendorCode: n.VendorCode, CustomerID: n.CustomerID,
		Target: n.Target, Status: n.Status, Attempts: n.Attempts, LastError: n.LastError, CreatedAt: n.CreatedAt,
		Body: json.RawMessage(n.Body)}
	if !n.NextAt.IsZero() {
		d.NextAttemptAt = &n.NextAt
	}
	if !n.DeliveredAt.IsZero() {
		d.DeliveredAt = &n.DeliveredAt
	}
	if !json.Valid(n.Body) {
		d.Body, _ = json.Marshal(string(n.Body))
	}
	return d
}

// ListLimit is how many notifications one page holds at most.
const ListLimit = 100

// Query selects a page of notifications.
type Query struct {
	Channel, Status, VendorCode, Cursor string
	Limit                               int
}

// List returns the notifications p may see (a vendor its webhooks, the
// operator all), newest first, and the next page's cursor.
func (s *Service) List(ctx context.Context, p replenish.Principal, q Query) ([]Delivery, string, error) {
	f := storage.NotificationFilter{Channel: q.Channel, Status: strings.ToUpper(q.Status), VendorCode: q.VendorCode, Limit: q.Limit}
	fields := replenish.Fields{}
	switch {
	case f.Limit == 0:
		f.Limit = ListLimit
	case f.Limit < 0 || f.Limit > ListLimit:
		fields.Add("limit", fmt.Sprintf("must be 1 to %d", ListLimit))
	}
	switch f.Status {
	case "", storage.NotificationPending, storage.NotificationDelivered, storage.NotificationFailed, storage.NotificationKept:
	default:
		fields.Add("status", "must be PENDING, DELIVERED, FAILED or KEPT")
	}
	switch f.Channel {
	case "", storage.ChannelVendor, storage.ChannelCustomer, storage.ChannelEmail, storage.ChannelDevice:
	default:
		fields.Add("channel", "must be vendor_webhook, customer_webhook, email or device")
	}
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		at, id, ok := strings.Cut(string(raw), "|")
		n, err2 := strconv.ParseInt(at, 10, 64)
		if err != nil || err2 != nil || !ok {
			fields.Add("cursor", "not a cursor this list gave; start again without it")
		}
		f.Before = &storage.NotificationCursor{CreatedAt: time.UnixMicro(n).UTC(), ID: id}
	}
	if p.Role == replenish.RoleVendor {
		f.VendorCode, f.Channel = p.VendorCode, storage.ChannelVendor
	}
	if err := fields.Err(); err != nil {
		return nil, "", err
	}
	var ns []storage.Notification
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		f.Limit++
		ns, err = tx.ListNotifications(ctx, f)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ns) == f.Limit {
		ns = ns[:len(ns)-1]
		last := ns[len(ns)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.CreatedAt.UnixMicro(), 10) + "|" + last.ID))
	}
	out := make([]Delivery, len(ns))
	for i, n := range ns {
		out[i] = delivery(n)
	}
	return out, next, nil
}

// Redeliver sends a notification again, with the same notificationId:
// it is queued, due at once, whatever became of it.
func (s *Service) Redeliver(ctx context.Context, p replenish.Principal, id string) (Delivery, error) {
	var out Delivery
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		n, err := tx.Notification(ctx, id)
		if err != nil || (p.Role == replenish.RoleVendor && (n.VendorCode != p.VendorCode || n.Channel != storage.ChannelVendor)) {
			return replenish.Errorf(replenish.ENotFound, "notification %s not found", id)
		}
		if n.Status == storage.NotificationKept {
			return replenish.Errorf(replenish.EConflict, "notification %s is an e-mail kept because no SMTP server is configured", id)
		}
		n.Status, n.NextAt, n.LastError = storage.NotificationPending, s.now(), ""
		if err := tx.SetNotification(ctx, n); err != nil {
			return err
		}
		out = delivery(n)
		return nil
	})
	return out, err
}
