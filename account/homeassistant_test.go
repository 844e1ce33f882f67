package account_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHomeAssistantOnSettingsPage: the settings page turns the bridge on
// with the API's checks, never shows the broker's password, and shows the
// bridge's state: retrying, with the last error and the next attempt,
// for a broker that is down; off once turned off.
func TestHomeAssistantOnSettingsPage(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Ada")
	w.link(c)
	_, body := c.get("/account/notifications")
	for _, want := range []string{`id="homeassistant"`, `name="brokerUrl"`, `name="discoveryPrefix" value="homeassistant"`,
		`data-state="OFF"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page has no %s", want)
		}
	}

	// Refused by its field, with what was typed, and nothing changed.
	status, _, body := c.post("/account/notifications/home-assistant", url.Values{"enabled": {"on"},
		"brokerUrl": {"http://broker.example"}, "discoveryPrefix": {"homeassistant"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="ha-broker-error"`) ||
		!strings.Contains(body, `value="http://broker.example"`) || !strings.Contains(body, `data-state="OFF"`) {
		t.Fatalf("a web address as the broker: %d, want 400 naming the broker field\n%s", status, body)
	}
	status, _, body = c.post("/account/notifications/home-assistant", url.Values{"enabled": {"on"},
		"brokerUrl": {"mqtt://broker.example"}, "discoveryPrefix": {"home/assistant"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="ha-prefix-error"`) {
		t.Fatalf("a prefix of two levels: %d, want 400 naming the prefix field", status)
	}

	// A broker where nothing listens: the page says it retries, why, and when.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	status, loc, _ := c.post("/account/notifications/home-assistant", url.Values{"enabled": {"on"},
		"brokerUrl": {"mqtt://ada:s3cret@" + down}, "discoveryPrefix": {"homeassistant"}})
	if status != http.StatusSeeOther || loc != "/account/notifications?done=bridge-on" {
		t.Fatalf("turning it on: %d to %s", status, loc)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = c.get("/account/notifications")
		if strings.Contains(body, `data-state="RETRYING"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed the bridge retrying:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"Not connected: retrying", `id="bridge-error"`, "refused", `id="bridge-next"`,
		`value="mqtt://ada:xxxxx@` + down + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page shows no %q", want)
		}
	}
	if strings.Contains(body, "s3cret") {
		t.Error("the page shows the broker's password")
	}

	// Off: nothing was published, so nothing to remove.
	status, loc, _ = c.post("/account/notifications/home-assistant", url.Values{
		"brokerUrl": {"mqtt://ada:xxxxx@" + down}, "discoveryPrefix": {"homeassistant"}})
	if status != http.StatusSeeOther || loc != "/account/notifications?done=bridge-off" {
		t.Fatalf("turning it off: %d to %s", status, loc)
	}
	_, body = c.get(loc)
	if !strings.Contains(body, `data-state="OFF"`) || strings.Contains(body, `id="ha-enabled" name="enabled" value="on" checked`) {
		t.Errorf("after turning it off the page shows it on:\n%s", body)
	}
}

// TestHomeAssistantEmbeddedRefusedOnSettingsPage: a Replenish without a
// broker of its own offers no "Replenish's broker": the choice is off,
// and posting it anyway is refused by the choice, changing nothing.
func TestHomeAssistantEmbeddedRefusedOnSettingsPage(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Ada")
	_, body := c.get("/account/notifications")
	for _, want := range []string{`id="ha-mode-own" name="mode" value="own" checked`,
		`id="ha-mode-embedded" name="mode" value="embedded" disabled`, "runs no MQTT broker of its own"} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page has no %s", want)
		}
	}
	status, _, body := c.post("/account/notifications/home-assistant", url.Values{"enabled": {"on"}, "mode": {"embedded"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="ha-mode-error"`) || !strings.Contains(body, `data-state="OFF"`) ||
		strings.Contains(body, `id="ha-account"`) {
		t.Fatalf("Replenish's broker without one: %d, want 400 naming the choice\n%s", status, body)
	}
	status, _, body = c.post("/account/notifications/home-assistant", url.Values{"newPassword": {"on"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="ha-mode-error"`) {
		t.Fatalf("a new password without an account: %d, want 400", status)
	}
}
