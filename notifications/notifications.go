// Package notifications tells customers and vendors what happened: every
// notification is written to a durable outbox in the transaction of what
// caused it (a reading, an order step, a subscription change), and a
// worker delivers it at least once, with backoff, to the vendor's webhook,
// the customer's webhook or the customer's e-mail; the in-app feed is
// written at once. Receivers deduplicate by notificationId.
package notifications

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"replenish"
	"replenish/storage"
)

// Service queues notifications and delivers them.
type Service struct {
	store  storage.Store
	now    func() time.Time
	client *http.Client
	log    *slog.Logger
	// mailer sends e-mail; nil keeps e-mails for the operator to read.
	mailer Mailer
	// baseURL makes the links in messages absolute.
	baseURL string
	// lease is how long a worker holds the notifications it claimed.
	lease time.Duration
	// directives carries notices to CONNECT_KIT devices; nil when MQTT is off.
	directives Directives
}

// Directives publishes a directive on a device's directives topic.
type Directives interface {
	Directive(deviceID string, payload []byte) error
}

// SendDirectivesWith has notices to devices published through d.
func (s *Service) SendDirectivesWith(d Directives) { s.directives = d }

// Device queues, in the caller's transaction, a directive to a customer's
// CONNECT_KIT device (a low-supply notice for its display): sent through
// the outbox, so that it is retried while the device's broker is away.
func (s *Service) Device(ctx context.Context, tx storage.Tx, typ string, e replenish.Endpoint, directive []byte, now time.Time) error {
	return tx.InsertNotification(ctx, storage.Notification{ID: replenish.NewUUID(), Channel: storage.ChannelDevice, Type: typ,
		VendorCode: e.VendorCode, CustomerID: e.CustomerID, EndpointID: e.EndpointID, Target: e.EndpointID, Body: directive,
		Status: storage.NotificationPending, NextAt: now, CreatedAt: now})
}

// Lease is how long, by default, a worker holds the notifications it
// claimed before another worker may take over those it has not recorded
// (its process died): long enough for a batch to be sent.
const Lease = time.Minute

// ClaimFor sets how long a worker holds the notifications it claimed.
func (s *Service) ClaimFor(lease time.Duration) {
	if lease > 0 {
		s.lease = lease
	}
}

// New returns a Service on store; now is the clock, client sends the
// webhooks, baseURL is the service's public URL.
func New(store storage.Store, now func() time.Time, client *http.Client, log *slog.Logger, baseURL string) *Service {
	return &Service{store: store, now: now, client: client, log: log, baseURL: baseURL, lease: Lease}
}

// Vendor notification types, after Dash Replenishment's.
const (
	DeviceRegistered    = "DeviceRegisteredNotification"
	DeviceDeregistered  = "DeviceDeregisteredNotification"
	SubscriptionChanged = "SubscriptionChangedNotification"
	OrderPlaced         = "OrderPlacedNotification"
	OrderCancelled      = "OrderCancelledNotification"
	ItemShipped         = "ItemShippedNotification"
	ItemDelivered       = "ItemDeliveredNotification"
)

// VendorTypes are the vendor notification types.
var VendorTypes = []string{DeviceRegistered, DeviceDeregistered, SubscriptionChanged, OrderPlaced, OrderCancelled,
	ItemShipped, ItemDelivered}

// Body is the common body of a vendor notification.
type Body struct {
	NotificationInfo Info              `json:"notificationInfo"`
	DeviceInfo       *DeviceInfo       `json:"deviceInfo,omitempty"`
	CustomerInfo     CustomerInfo      `json:"customerInfo"`
	OrderInfo        *OrderInfo        `json:"orderInfo,omitempty"`
	SubscriptionInfo *SubscriptionInfo `json:"subscriptionInfo,omitempty"`
}

// Info names a notification.
type Info struct {
	NotificationType string `json:"notificationType"`
	NotificationID   string `json:"notificationId"`
	NotificationTime string `json:"notificationTime"`
	Version          string `json:"version"`
}

// DeviceInfo names the endpoint.
type DeviceInfo struct {
	EndpointID string `json:"endpointId"`
	ModelID    string `json:"modelId"`
}

// CustomerInfo names the customer.
type CustomerInfo struct {
	CustomerID string `json:"customerId"`
}

// OrderInfo describes an order.
type OrderInfo struct {
	OrderID     string        `json:"orderId"`
	SlotID      string        `json:"slotId"`
	Test        bool          `json:"test"`
	Status      string        `json:"status"`
	ProductInfo []ProductInfo `json:"productInfo"`
	// Actor and Reason say who cancelled an order, and why.
	Actor  string `json:"cancelledBy,omitempty"`
	Reason string `json:"reason,omitempty"`
	// TrackingReference is the shipment's, when given.
	TrackingReference string `json:"trackingReference,omitempty"`
}

// ProductInfo is one product of an order.
type ProductInfo struct {
	ProductID             string `json:"productId"`
	Quantity              int    `json:"quantity"`
	Unit                  string `json:"unit"`
	EstimatedDeliveryDate string `json:"estimatedDeliveryDate,omitempty"`
}

// SubscriptionInfo is the mode and product of each slot of an endpoint.
type SubscriptionInfo struct {
	SlotsSubscriptionStatus map[string]SlotSubscription `json:"slotsSubscriptionStatus"`
}

// SlotSubscription is one slot's mode and product.
type SlotSubscription struct {
	Mode            string        `json:"mode"`
	ProductInfoList []ProductInfo `json:"productInfoList"`
}

// timeFormat is the notifications' time format, in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

// Vendor queues a notification of type typ to the vendor of endpoint e,
// in the caller's transaction. A vendor without a webhook URL is not told.
func (s *Service) Vendor(ctx context.Context, tx storage.Tx, typ string, e replenish.Endpoint, b Body, now time.Time) error {
	v, err := tx.Vendor(ctx, e.VendorCode)
	if err != nil || v.Settings.WebhookURL == "" {
		return err
	}
	id := replenish.NewUUID()
	b.NotificationInfo = Info{NotificationType: typ, NotificationID: id, NotificationTime: now.UTC().Format(timeFormat), Version: "2"}
	if b.DeviceInfo == nil {
		b.DeviceInfo = &DeviceInfo{EndpointID: e.EndpointID, ModelID: e.ModelID}
	}
	b.CustomerInfo = CustomerInfo{CustomerID: e.CustomerID}
	raw, err := json.Marshal(b)
	if err != nil {
		return err
	}
	n := storage.Notification{ID: id, Channel: storage.ChannelVendor, Type: typ, VendorCode: e.VendorCode,
		CustomerID: e.CustomerID, EndpointID: e.EndpointID, Target: v.Settings.WebhookURL, Body: raw,
		Status: storage.NotificationPending, NextAt: now, CreatedAt: now}
	if b.OrderInfo != nil {
		n.OrderID, n.SlotID = b.OrderInfo.OrderID, b.OrderInfo.SlotID
	}
	return tx.InsertNotification(ctx, n)
}

// Order queues the vendor notification of typ about order o.
func (s *Service) Order(ctx context.Context, tx storage.Tx, typ string, e replenish.Endpoint, o replenish.Order, step replenish.OrderStep) error {
	oi := &OrderInfo{OrderID: o.OrderID, SlotID: o.SlotID, Test: o.Test, Status: o.Status,
		ProductInfo:       []ProductInfo{{ProductID: o.ProductID, Quantity: o.Quantity, Unit: "count"}},
		TrackingReference: o.TrackingReference}
	if typ == OrderCancelled {
		oi.Actor, oi.Reason = step.Actor, step.Reason
	}
	if e.EndpointID == "" {
		e = replenish.Endpoint{EndpointID: o.EndpointID, VendorCode: o.VendorCode, CustomerID: o.CustomerID}
	}
	return s.Vendor(ctx, tx, typ, e, Body{OrderInfo: oi}, step.At)
}

// Subscriptions queues a SubscriptionChangedNotification with every slot
// of endpoint e.
func (s *Service) Subscriptions(ctx context.Context, tx storage.Tx, e replenish.Endpoint, now time.Time) error {
	si := &SubscriptionInfo{SlotsSubscriptionStatus: map[string]SlotSubscription{}}
	for _, sl := range e.Slots {
		ss := SlotSubscription{Mode: sl.Mode, ProductInfoList: []ProductInfo{}}
		if sl.ProductID != "" {
			ss.ProductInfoList = append(ss.ProductInfoList, ProductInfo{ProductID: sl.ProductID, Quantity: 1, Unit: "count"})
		}
		si.SlotsSubscriptionStatus[sl.SlotID] = ss
	}
	return s.Vendor(ctx, tx, SubscriptionChanged, e, Body{SubscriptionInfo: si}, now)
}

// CustomerBody is what a customer's webhook receives.
type CustomerBody struct {
	NotificationInfo Info   `json:"notificationInfo"`
	CustomerID       string `json:"customerId"`
	Type             string `json:"type"`
	EndpointID       string `json:"endpointId,omitempty"`
	SlotID           string `json:"slotId,omitempty"`
	OrderID          string `json:"orderId,omitempty"`
	Message          string `json:"message"`
	// Reason is the inputs of the decision behind a LOW_SUPPLY.
	Reason json.RawMessage `json:"reason,omitempty"`
}

// Customer tells a customer f, in the caller's transaction, on every
// channel the customer chose for its type: the feed at once, the
// customer's webhook and e-mail through the outbox.
func (s *Service) Customer(ctx context.Context, tx storage.Tx, f replenish.FeedEntry) error {
	set, err := tx.NotificationSettings(ctx, f.CustomerID)
	if err != nil {
		return err
	}
	if !set.Wants(f.Type) {
		return nil
	}
	if set.Feed {
		if err := tx.InsertFeed(ctx, f); err != nil {
			return err
		}
	}
	now := f.CreatedAt
	base := storage.Notification{Type: f.Type, CustomerID: f.CustomerID, EndpointID: f.EndpointID, SlotID: f.SlotID,
		OrderID: f.OrderID, Status: storage.NotificationPending, NextAt: now, CreatedAt: now}
	if set.WebhookURL != "" {
		n := base
		n.ID, n.Channel, n.Target = replenish.NewUUID(), storage.ChannelCustomer, set.WebhookURL
		if n.Body, err = json.Marshal(CustomerBody{NotificationInfo: Info{NotificationType: f.Type, NotificationID: n.ID,
			NotificationTime: now.UTC().Format(timeFormat), Version: "2"}, CustomerID: f.CustomerID, Type: f.Type,
			EndpointID: f.EndpointID, SlotID: f.SlotID, OrderID: f.OrderID, Message: f.Message, Reason: f.Reason}); err != nil {
			return err
		}
		if err := tx.InsertNotification(ctx, n); err != nil {
			return err
		}
	}
	if set.Email {
		return s.email(ctx, tx, base, f)
	}
	return nil
}
