package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/mail"
	"replenish/storage"
)

// Mailer sends e-mail.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// SendMailWith has e-mails sent through m; without it they are kept for
// the operator to read ("what would have been sent").
func (s *Service) SendMailWith(m Mailer) { s.mailer = m }

// SendsMail reports whether e-mails are sent; if not, they are kept for
// the operator to read.
func (s *Service) SendsMail() bool { return s.mailer != nil }

// The customer pages' paths that e-mails link to.
const (
	SettingsPath = "/account/notifications"
	OrderPath    = "/orders/"
)

// email renders the e-mail that tells f, in the caller's transaction, and
// queues it; with no mailer it is kept for the operator.
func (s *Service) email(ctx context.Context, tx storage.Tx, base storage.Notification, f replenish.FeedEntry) error {
	c, err := tx.Customer(ctx, f.CustomerID)
	if err != nil || c.Email == "" {
		return err
	}
	n := base
	n.ID, n.Channel, n.Target = replenish.NewUUID(), storage.ChannelEmail, c.Email
	notice := mail.Notice{Type: f.Type, To: c.Email, Name: c.Name, Locale: c.Locale, Message: f.Message,
		SettingsURL: s.baseURL + SettingsPath, NotificationID: n.ID}
	if f.EndpointID != "" {
		if err := s.describeSlot(ctx, tx, c, f, &notice); err != nil {
			return err
		}
	}
	if f.OrderID != "" {
		o, err := tx.Order(ctx, f.OrderID)
		if err != nil {
			return err
		}
		notice.OrderID, notice.Quantity, notice.Price, notice.Currency = o.OrderID, o.Quantity, o.Price, o.Currency
		notice.CancelBy, notice.Tracking, notice.ProductTitle = o.CancelBy, o.TrackingReference, o.ProductID
		notice.CancelURL = s.baseURL + OrderPath + o.OrderID
		if p, err := tx.Product(ctx, o.ProductID); err == nil && p.Offers[c.Marketplace].Title != "" {
			notice.ProductTitle = p.Offers[c.Marketplace].Title
		}
		if last := o.Steps[len(o.Steps)-1]; o.Status == replenish.OrderCancelled {
			notice.Reason = last.Reason
		}
	}
	m, err := mail.Render(notice)
	if errors.Is(err, mail.ErrUnknownType) {
		return nil // nothing to say by e-mail
	}
	if err != nil {
		return fmt.Errorf("rendering the %s e-mail: %w", f.Type, err)
	}
	if n.Body, err = json.Marshal(m); err != nil {
		return err
	}
	if s.mailer == nil {
		n.Status, n.NextAt = storage.NotificationKept, time.Time{}
	}
	return tx.InsertNotification(ctx, n)
}

// describeSlot fills in what a notice says of the device and its slot:
// the names (the vendor's name of the slot in the customer's marketplace,
// where it gave one), the image, what is left, the mode.
func (s *Service) describeSlot(ctx context.Context, tx storage.Tx, c replenish.Customer, f replenish.FeedEntry, notice *mail.Notice) error {
	e, err := tx.Endpoint(ctx, f.CustomerID, f.EndpointID)
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return nil // removed since; the message says enough
	}
	if err != nil {
		return err
	}
	notice.DeviceName = e.FriendlyName
	m, err := tx.Model(ctx, e.VendorCode, e.ModelID)
	if err != nil {
		return err
	}
	if l, ok := m.Listings[c.Marketplace]; ok && l.Image != nil {
		notice.ImageURL = s.baseURL + "/images/" + e.VendorCode + "/" + e.ModelID + "/" + c.Marketplace
	} else if m.Image != nil {
		notice.ImageURL = s.baseURL + "/images/" + e.VendorCode + "/" + e.ModelID
	}
	for _, sl := range e.Slots {
		if sl.SlotID != f.SlotID {
			continue
		}
		notice.SlotName, notice.Mode = sl.Name, sl.Mode
		// In AUTO a low supply is told only when smart reorder holds back
		// (a spare at home, a cooldown, a price to confirm, no offer):
		// otherwise an order is placed, and told as such.
		notice.Held = sl.Mode == replenish.ModeAuto && f.Type == replenish.FeedLowSupply
		if name := m.Listings[c.Marketplace].SlotNames[sl.SlotID]; name != "" {
			notice.SlotName = name
		}
		if !sl.State.LastSampleAt.IsZero() || sl.SensorType == replenish.SensorUsage {
			notice.Amount = engine.DescribeAmount(&sl)
		}
	}
	return nil
}

// sendEmail sends a queued e-mail.
func (s *Service) sendEmail(ctx context.Context, n storage.Notification) error {
	if s.mailer == nil {
		return fmt.Errorf("no SMTP server is configured")
	}
	var m mail.Message
	if err := json.Unmarshal(n.Body, &m); err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	err := s.mailer.Send(ctx, m)
	if errors.Is(err, mail.ErrPermanent) {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	return err
}
