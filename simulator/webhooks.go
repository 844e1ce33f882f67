package simulator

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"

	"replenish/notifications"
	"replenish/signing"
)

// WebhookPath is where the cloud receives Replenish's vendor
// notifications, beside its skill endpoint.
const WebhookPath = "/webhooks"

// WebhookURL is the webhook URL of the cloud whose skill endpoint is
// skillURL: the same origin, at WebhookPath.
func WebhookURL(skillURL string) string {
	u, err := url.Parse(skillURL)
	if err != nil {
		return skillURL + WebhookPath
	}
	u.Path, u.RawQuery, u.Fragment = WebhookPath, "", ""
	return u.String()
}

// Webhooks counts the vendor notifications the cloud received.
type Webhooks struct {
	// ByType counts each notification once, by its notificationType.
	ByType map[string]int
	// BadlySigned counts the requests whose signature did not verify,
	// answered 401; Unreadable those signed but not a notification,
	// answered 400.
	BadlySigned, Unreadable int
	// Repeats counts deliveries of a notificationId already received,
	// answered 200 with no second effect: Replenish delivers at least once.
	Repeats int
}

// Total is the number of distinct notifications received.
func (w Webhooks) Total() int {
	n := 0
	for _, c := range w.ByType {
		n += c
	}
	return n
}

// webhooks is what the cloud keeps of the notifications it received.
type webhooks struct {
	seen   map[string]bool // notification IDs
	counts Webhooks
}

// Webhooks returns the counts of the vendor notifications received so far.
func (c *Cloud) Webhooks() Webhooks {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.hooks.counts
	w.ByType = maps.Clone(w.ByType)
	if w.ByType == nil {
		w.ByType = map[string]int{}
	}
	return w
}

// receiveWebhook is the vendor's webhook: it checks the signature as
// every receiver must, deduplicates by notificationId, counts the
// notification by type and hands a new one to Config.Notified.
func (c *Cloud) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if err := signing.Verify(c.cfg.SigningSecret, r.Header.Get(signing.Header), body, time.Now()); err != nil {
		c.mu.Lock()
		c.hooks.counts.BadlySigned++
		c.mu.Unlock()
		c.cfg.Log.Warn("webhook refused", "err", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var b notifications.Body
	if err := json.Unmarshal(body, &b); err != nil || b.NotificationInfo.NotificationID == "" || b.NotificationInfo.NotificationType == "" {
		c.mu.Lock()
		c.hooks.counts.Unreadable++
		c.mu.Unlock()
		http.Error(w, "not a notification", http.StatusBadRequest)
		return
	}
	id := b.NotificationInfo.NotificationID
	c.mu.Lock()
	repeat := c.hooks.seen[id]
	if repeat {
		c.hooks.counts.Repeats++
	} else {
		if c.hooks.seen == nil {
			c.hooks.seen, c.hooks.counts.ByType = map[string]bool{}, map[string]int{}
		}
		c.hooks.seen[id] = true
		c.hooks.counts.ByType[b.NotificationInfo.NotificationType]++
	}
	c.mu.Unlock()
	if !repeat && c.cfg.Notified != nil {
		c.cfg.Notified(b)
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListNotifications lists, every page of it, what GET
// /api/v1/notifications shows key (a vendor its webhooks, the operator
// every notification), filtered by query (channel, status, vendorCode).
func ListNotifications(ctx context.Context, c *Client, key string, query url.Values) ([]notifications.Delivery, error) {
	return listAll[notifications.Delivery](ctx, c, key, "/api/v1/notifications", query)
}
