package linking

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/storage"
)

// ReportStateInterval is how long Replenish waits before asking a
// vendor's cloud again for the state of the same endpoint.
const ReportStateInterval = time.Hour

// reportStateTimeout bounds one ReportState, its retries included.
const reportStateTimeout = 30 * time.Second

// StateAsker sends ReportState directives in the background, at most one
// per endpoint per ReportStateInterval, so that a vendor that is slow or
// down never holds up the page that asked.
type StateAsker struct {
	links *Service

	mu    sync.Mutex
	asked map[[3]string]time.Time // by vendor, customer and endpoint
	wg    sync.WaitGroup
}

// NewStateAsker returns a StateAsker that sends through links.
func NewStateAsker(links *Service) *StateAsker {
	return &StateAsker{links: links, asked: map[[3]string]time.Time{}}
}

// Ask asks, in the background, vendorCode's cloud to report the state of
// a customer's endpoint, unless it was asked within ReportStateInterval.
// It never blocks: the vendor answers with a StateReport to the gateway.
func (a *StateAsker) Ask(vendorCode, customerID, endpointID string) {
	now := a.links.now()
	key := [3]string{vendorCode, customerID, endpointID}
	a.mu.Lock()
	if last, ok := a.asked[key]; ok && now.Sub(last) < ReportStateInterval {
		a.mu.Unlock()
		return
	}
	a.asked[key] = now
	for k, at := range a.asked {
		// Forgetting what may be asked again keeps the map small.
		if now.Sub(at) >= ReportStateInterval {
			delete(a.asked, k)
		}
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), reportStateTimeout)
		defer cancel()
		if err := a.links.ReportState(ctx, vendorCode, customerID, endpointID); err != nil {
			a.links.log.Warn("ReportState failed", "vendor", vendorCode, "endpoint", endpointID, "err", err)
		}
	}()
}

// Wait waits for the directives under way: the service waits for them
// before it closes the database.
func (a *StateAsker) Wait() { a.wg.Wait() }

// ReportState sends vendorCode's skill endpoint an Alexa ReportState
// directive for a customer's endpoint, scoped by the customer's grantee
// token. The vendor answers it synchronously (a DeferredResponse, or a
// StateReport, which Replenish does not read) and sends the StateReport
// with the endpoint's properties to the event gateway.
func (s *Service) ReportState(ctx context.Context, vendorCode, customerID, endpointID string) error {
	grantee, err := s.GranteeToken(ctx, customerID, vendorCode)
	if err != nil {
		return err
	}
	var v replenish.Vendor
	var cookie json.RawMessage
	if err := s.store.Read(ctx, func(tx storage.Tx) error {
		if v, err = tx.Vendor(ctx, vendorCode); err != nil {
			return err
		}
		cookie, err = tx.EndpointCookie(ctx, customerID, endpointID)
		return err
	}); err != nil {
		return err
	}
	endpoint := &gateway.EndpointRef{Scope: &gateway.Scope{Type: "BearerToken", Token: grantee}, EndpointID: endpointID,
		Cookie: cookie}
	var answer gateway.Message
	return s.send(ctx, v, "Alexa", "ReportState", endpoint, struct{}{}, &answer)
}
