package account_test

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
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

var (
	haPasswordRe = regexp.MustCompile(`<code id="ha-account-password">([^<]+)</code>`)
	haBrokerRe   = regexp.MustCompile(`<code id="ha-account-broker">mqtt://([^<]+)</code>`)
	haUserRe     = regexp.MustCompile(`<code id="ha-account-username">([^<]+)</code>`)
	haPrefixRe   = regexp.MustCompile(`<code id="ha-account-prefix">([^<]+)</code>`)
)

// TestHomeAssistantEmbeddedOnSettingsPage: on a Replenish that runs its
// own broker, the settings page turns the bridge on there and shows what
// Home Assistant needs, the password once; Home Assistant signing in with
// it finds the discovery configs under its prefix; a new password shown
// once replaces it, and the old one no longer signs in.
func TestHomeAssistantEmbeddedOnSettingsPage(t *testing.T) {
	w := newWorldFull(t, false, nil, true)
	c := w.signUp("Ada")
	w.link(c)
	w.report(80, 70, 60, 50)
	if _, body := c.get("/account/notifications"); !strings.Contains(body, `id="ha-mode-embedded" name="mode" value="embedded">`) {
		t.Fatalf("the page does not offer Replenish's broker:\n%s", body)
	}
	status, _, body := c.post("/account/notifications/home-assistant", url.Values{"enabled": {"on"}, "mode": {"embedded"}})
	pw, broker, user, prefix := haPasswordRe.FindStringSubmatch(body), haBrokerRe.FindStringSubmatch(body),
		haUserRe.FindStringSubmatch(body), haPrefixRe.FindStringSubmatch(body)
	if status != http.StatusOK || pw == nil || broker == nil || user == nil || prefix == nil {
		t.Fatalf("turning it on with Replenish's broker: %d, want the account shown:\n%s", status, body)
	}
	if _, again := c.get("/account/notifications"); haPasswordRe.MatchString(again) || !haUserRe.MatchString(again) {
		t.Fatal("the settings page shows the password again, or no longer the account")
	}

	// Home Assistant, with what the page showed, sees the configs.
	configs := make(chan string, 100)
	ha := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker[1]).SetClientID("ha-" + user[1]).
		SetUsername(user[1]).SetPassword(pw[1]).SetAutoReconnect(false))
	if tok := ha.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("Home Assistant signing in with the page's account: %v", tok.Error())
	}
	defer ha.Disconnect(0)
	ha.Subscribe(prefix[1]+"/#", 0, func(_ paho.Client, m paho.Message) {
		if strings.HasSuffix(m.Topic(), "/config") && len(m.Payload()) > 0 {
			select {
			case configs <- m.Topic():
			default:
			}
		}
	}).WaitTimeout(10 * time.Second)
	select {
	case <-configs:
	case <-time.After(15 * time.Second):
		t.Fatal("Home Assistant saw no discovery config under its prefix")
	}

	// A new password, shown once; the old one stops working.
	status, _, body = c.post("/account/notifications/home-assistant", url.Values{"newPassword": {"on"}})
	fresh := haPasswordRe.FindStringSubmatch(body)
	if status != http.StatusOK || fresh == nil || fresh[1] == pw[1] {
		t.Fatalf("a new password: %d, shown %v", status, fresh)
	}
	old := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + broker[1]).SetClientID("ha-old-" + user[1]).
		SetUsername(user[1]).SetPassword(pw[1]).SetAutoReconnect(false))
	if tok := old.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		old.Disconnect(0)
		t.Fatal("the old password still signs in")
	}
}
