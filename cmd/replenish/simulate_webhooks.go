package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"replenish/notifications"
	"replenish/simulator"
)

// webhookWait bounds the wait, after the run, for the vendor
// notifications Replenish has yet to deliver: its worker looks every
// second, so the last order's steps are still on their way.
const webhookWait = time.Minute

// webhookQueue holds the vendor notifications the cloud received until
// the watch prints them.
type webhookQueue struct {
	mu sync.Mutex
	bs []notifications.Body
}

func (q *webhookQueue) add(b notifications.Body) {
	q.mu.Lock()
	q.bs = append(q.bs, b)
	q.mu.Unlock()
}

// take returns the notifications received since the last take.
func (q *webhookQueue) take() []notifications.Body {
	q.mu.Lock()
	defer q.mu.Unlock()
	bs := q.bs
	q.bs = nil
	return bs
}

// awaitWebhooks waits up to limit for Replenish to deliver the vendor's
// pending notifications, as the vendor sees them with its key, saying so
// on out when it takes more than a moment. It returns how many are still
// pending.
func awaitWebhooks(ctx context.Context, api *simulator.Client, vendorKey string, limit time.Duration, out io.Writer) int {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(clerkEvery)
	defer tick.Stop()
	told := false
	for {
		var some struct{ Items []notifications.Delivery }
		err := api.Do(ctx, "GET", "/api/v1/notifications?status=PENDING&limit=1", vendorKey, nil, &some)
		if err == nil && len(some.Items) == 0 {
			if told {
				fmt.Fprintf(out, "Every vendor webhook is delivered, %s later.\n", time.Since(start).Round(time.Second))
			}
			return 0
		}
		if !told && time.Since(start) > 3*time.Second {
			fmt.Fprintf(out, "Waiting up to %s for Replenish to deliver the vendor's webhooks ...\n", limit)
			told = true
		}
		select {
		case <-ctx.Done():
			return pendingWebhooks(context.WithoutCancel(ctx), api, vendorKey)
		case <-tick.C:
		}
	}
}

// pendingWebhooks counts the vendor's notifications not yet delivered
// (-1 when they cannot be read).
func pendingWebhooks(ctx context.Context, api *simulator.Client, vendorKey string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ns, err := simulator.ListNotifications(ctx, api, vendorKey, url.Values{"status": {"PENDING"}})
	if err != nil {
		return -1
	}
	return len(ns)
}

// webhookLine is the summary of the vendor notifications received:
// "42 (OrderPlaced 12, ItemShipped 10, ...), 0 badly signed, 0 repeats".
func webhookLine(w simulator.Webhooks, pending int) string {
	short := map[string]int{}
	for typ, n := range w.ByType {
		short[strings.TrimSuffix(typ, "Notification")] += n
	}
	byType := ""
	if len(short) > 0 {
		byType = " (" + strings.TrimPrefix(byCount(short, ""), ": ") + ")"
	}
	line := fmt.Sprintf("%d%s, %d badly signed, %d repeats", w.Total(), byType, w.BadlySigned, w.Repeats)
	if w.Unreadable > 0 {
		line += fmt.Sprintf(", %d unreadable", w.Unreadable)
	}
	switch {
	case pending > 0:
		line += fmt.Sprintf(", %d still pending at Replenish", pending)
	case pending < 0:
		line += ", those still pending at Replenish could not be read"
	}
	return line
}

// webhookText tells one vendor notification for the watch:
// "OrderPlaced ord-… for Black ink (PENDING)"; slots names the slot by
// the product ordered.
func webhookText(b notifications.Body, slots map[string]string) string {
	typ := strings.TrimSuffix(b.NotificationInfo.NotificationType, "Notification")
	endpoint := ""
	if b.DeviceInfo != nil {
		endpoint = b.DeviceInfo.EndpointID
	}
	switch {
	case b.OrderInfo != nil:
		o := b.OrderInfo
		what := o.SlotID
		if len(o.ProductInfo) > 0 {
			what = o.ProductInfo[0].ProductID
			if name := slots[what]; name != "" {
				what = name
			}
		}
		detail := o.Status
		if o.TrackingReference != "" {
			detail += ", tracking " + o.TrackingReference
		}
		if o.Actor != "" {
			detail += " by " + o.Actor
		}
		if o.Reason != "" {
			detail += ": " + o.Reason
		}
		return fmt.Sprintf("%s %s for %s (%s)", typ, o.OrderID, what, detail)
	case b.SubscriptionInfo != nil:
		modes := map[string]int{}
		for _, s := range b.SubscriptionInfo.SlotsSubscriptionStatus {
			modes[s.Mode]++
		}
		if len(modes) == 1 {
			for mode := range modes {
				return fmt.Sprintf("%s %s: every slot %s", typ, endpoint, mode)
			}
		}
		keys := make([]string, 0, len(modes))
		for m := range modes {
			keys = append(keys, m)
		}
		sort.Strings(keys)
		var parts []string
		for _, m := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", m, modes[m]))
		}
		return fmt.Sprintf("%s %s: slots %s", typ, endpoint, strings.Join(parts, ", "))
	case b.DeviceInfo != nil:
		return fmt.Sprintf("%s %s (%s)", typ, endpoint, b.DeviceInfo.ModelID)
	}
	return typ
}
