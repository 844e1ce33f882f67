package storage

import (
	"context"
	"time"

	"replenish"
)

// HomeAssistant is the Home Assistant bridges' part of a transaction: each
// customer's settings, the status of their bridge, and a lease that lets
// one instance of the service at a time run it.
type HomeAssistant interface {
	// HomeAssistant returns a customer's bridge (not found when they never
	// set one).
	HomeAssistant(ctx context.Context, customerID string) (replenish.HomeAssistant, error)
	// HomeAssistantAccount returns the bridge whose Home Assistant signs
	// in to Replenish's own broker as account (not found for none).
	HomeAssistantAccount(ctx context.Context, account string) (replenish.HomeAssistant, error)
	// PutHomeAssistant stores the settings (the account with them) and
	// status of h, at a
	// generation one more than before (1 for a new one); its lease and
	// published topics are kept.
	PutHomeAssistant(ctx context.Context, h replenish.HomeAssistant, now time.Time) error
	// HomeAssistantBridges returns, by customer, the bridges that need a
	// connection: those turned on, and those turned off whose entities
	// are not removed yet (state not OFF).
	HomeAssistantBridges(ctx context.Context) ([]replenish.HomeAssistant, error)
	// ClaimHomeAssistant gives a customer's bridge to owner until until,
	// unless another owner holds a lease that has not ended at now; it
	// reports whether owner holds it.
	ClaimHomeAssistant(ctx context.Context, customerID, owner string, now, until time.Time) (bool, error)
	// ReleaseHomeAssistant ends owner's lease of a customer's bridge.
	ReleaseHomeAssistant(ctx context.Context, customerID, owner string) error
	// SetHomeAssistantStatus records, for the bridge that owner holds, the
	// topics it published (h.Published) and, when the settings are still
	// at h.Generation, its status. A bridge owner does not hold is
	// EConflict, and nothing changes.
	SetHomeAssistantStatus(ctx context.Context, owner string, h replenish.HomeAssistant) error
}
