// Package mqtt is the MQTT transport of CONNECT_KIT devices. A device
// connects with its device ID as client ID and user name, and its
// password; it publishes events on replenish/v1/{d}/events (QoS 1),
// which Replenish acks on replenish/v1/{d}/acks once stored, and its
// status (online, or offline as its last will) on replenish/v1/{d}/status;
// Replenish sends it directives on replenish/v1/{d}/directives.
//
// Embedded runs the broker inside Replenish; External makes Replenish a
// client of the operator's broker. Both hand what devices send to a
// Devices and carry directives as a Transport.
package mqtt

import (
	"context"
	"log/slog"
	"strings"
)

// Devices is what the transport needs from the device service.
type Devices interface {
	// Authenticate reports whether deviceID may connect with password (a
	// device that exists, is not revoked, and whose password matches).
	Authenticate(ctx context.Context, deviceID, password string) bool
	// Event handles one event published by deviceID and returns the ack
	// to publish on its acks topic (JSON), or nil for none.
	Event(ctx context.Context, deviceID string, payload []byte) []byte
	// Status records that a device came online or went offline.
	Status(ctx context.Context, deviceID string, online bool)
}

// Transport carries directives to devices, whichever broker is in use.
type Transport interface {
	// Directive publishes payload on the device's directives topic.
	Directive(deviceID string, payload []byte) error
	// Disconnect drops the device's session (a revoked device); a no-op
	// on an external broker.
	Disconnect(deviceID string)
	Close() error
}

// topicRoot starts every device topic: replenish/v1/{d}/{kind}.
const topicRoot = "replenish/v1/"

// The kinds of device topics, their last level.
const (
	kindEvents     = "events"
	kindAcks       = "acks"
	kindDirectives = "directives"
	kindStatus     = "status"
)

// EventsTopic is where the device publishes its events.
func EventsTopic(deviceID string) string { return topicRoot + deviceID + "/" + kindEvents }

// AcksTopic is where Replenish acks the device's events.
func AcksTopic(deviceID string) string { return topicRoot + deviceID + "/" + kindAcks }

// DirectivesTopic is where Replenish sends the device directives.
func DirectivesTopic(deviceID string) string { return topicRoot + deviceID + "/" + kindDirectives }

// StatusTopic is where the device says it is online, and its last will
// says offline.
func StatusTopic(deviceID string) string { return topicRoot + deviceID + "/" + kindStatus }

// ParseTopic splits a device topic, replenish/v1/{d}/{kind}, into the
// device ID and the kind: events, acks, directives or status. ok is false
// for any other topic, and for filters with wildcards.
func ParseTopic(topic string) (deviceID, kind string, ok bool) {
	rest, found := strings.CutPrefix(topic, topicRoot)
	if !found {
		return "", "", false
	}
	deviceID, kind, found = strings.Cut(rest, "/")
	if !found || !validDeviceID(deviceID) {
		return "", "", false
	}
	switch kind {
	case kindEvents, kindAcks, kindDirectives, kindStatus:
		return deviceID, kind, true
	}
	return "", "", false
}

// validDeviceID reports whether id can stand as one level of a topic
// name: not empty, without a / or a wildcard.
func validDeviceID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "/+#")
}

// reportStatus hands a device's status payload to devices: online or
// offline, in any case, spaces around allowed; anything else is ignored.
func reportStatus(ctx context.Context, devices Devices, log *slog.Logger, deviceID string, payload []byte) {
	switch s := strings.TrimSpace(string(payload)); {
	case strings.EqualFold(s, "online"):
		devices.Status(ctx, deviceID, true)
	case strings.EqualFold(s, "offline"):
		devices.Status(ctx, deviceID, false)
	default:
		log.Debug("mqtt: status ignored", "device", deviceID, "payload", s)
	}
}
