package storage

import (
	"context"
	"time"

	"replenish"
)

// Devices is the CONNECT_KIT devices' part of a transaction: what their
// vendors provisioned, with the hashes of their MQTT passwords and claim
// codes, and who claimed them.
type Devices interface {
	// InsertDevice provisions a device; a serial number its model has
	// already is EConflict.
	InsertDevice(ctx context.Context, d replenish.Device, passwordHash, claimHash []byte) error
	// Device returns a device, revoked or not, and its password's hash.
	Device(ctx context.Context, deviceID string) (replenish.Device, []byte, error)
	// Devices lists a model's devices, revoked ones included, by serial
	// number.
	Devices(ctx context.Context, vendorCode, modelID string) ([]replenish.Device, error)
	// ClaimDevice gives the unclaimed, unrevoked device whose claim code
	// has this hash to a customer and spends the code; any other code is
	// not found.
	ClaimDevice(ctx context.Context, claimHash []byte, customerID string, now time.Time) (replenish.Device, error)
	// SetClaimCode gives a device a new claim code, replacing any unused one.
	SetClaimCode(ctx context.Context, deviceID string, claimHash []byte) error
	// ReleaseDevice makes a claimed device nobody's; it can be claimed
	// again only with a new code.
	ReleaseDevice(ctx context.Context, deviceID string) error
	// RevokeDevice revokes a device: it can no longer connect or be claimed.
	RevokeDevice(ctx context.Context, deviceID string, now time.Time) error
	// SetDeviceSeen records when a device was last heard from and, unless
	// connectivity is "", whether it is online.
	SetDeviceSeen(ctx context.Context, deviceID, connectivity string, at time.Time) error
}
