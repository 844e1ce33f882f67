package replenish

import "time"

// Device is one device of a CONNECT_KIT model: its vendor provisions it
// with MQTT credentials and a claim code, and it talks to Replenish
// straight over MQTT. Once a customer claims it, it is their endpoint,
// with endpointId = DeviceID.
type Device struct {
	DeviceID     string    `json:"deviceId"`
	VendorCode   string    `json:"vendorCode"`
	ModelID      string    `json:"modelId"`
	SerialNumber string    `json:"serialNumber"`
	CustomerID   string    `json:"-"` // "" until claimed
	CreatedAt    time.Time `json:"createdAt"`
	ClaimedAt    time.Time `json:"-"`
	RevokedAt    time.Time `json:"-"`
	// LastSeenAt is the newest event or status the device sent.
	LastSeenAt time.Time `json:"-"`
	// Connectivity is ConnectivityOnline or ConnectivityOffline, as the
	// device's session and its last will said last; "" before either.
	Connectivity string `json:"-"`
}

// Connectivity of a device.
const (
	ConnectivityOnline  = "ONLINE"
	ConnectivityOffline = "OFFLINE"
)
