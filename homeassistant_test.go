package replenish

import "testing"

func TestParseBrokerURL(t *testing.T) {
	for _, c := range []struct {
		in, url, user, password, masked string
		bad                             bool
	}{
		{in: "mqtt://user:pass@homeassistant.local:1883", url: "mqtt://homeassistant.local:1883", user: "user",
			password: "pass", masked: "mqtt://user:xxxxx@homeassistant.local:1883"},
		{in: "homeassistant.local", url: "mqtt://homeassistant.local:1883", masked: "mqtt://homeassistant.local:1883"},
		{in: " TCP://10.0.0.2:1884 ", url: "mqtt://10.0.0.2:1884", masked: "mqtt://10.0.0.2:1884"},
		{in: "ssl://broker", url: "mqtts://broker:8883", masked: "mqtts://broker:8883"},
		{in: "TLS://broker:8884/", url: "mqtts://broker:8884", masked: "mqtts://broker:8884"},
		{in: "mqtt+ssl://u@broker", url: "mqtts://broker:8883", user: "u", masked: "mqtts://u@broker:8883"},
		{in: "mqtt://p%40t:a%3Ab@[fd00::1]", url: "mqtt://[fd00::1]:1883", user: "p@t", password: "a:b",
			masked: "mqtt://p%40t:xxxxx@[fd00::1]:1883"},
		{in: "", bad: true},
		{in: "http://broker", bad: true},
		{in: "ws://broker", bad: true},
		{in: "mqtt://", bad: true},
		{in: "mqtt://broker:0", bad: true},
		{in: "mqtt://broker:port", bad: true},
		{in: "mqtt://broker/topic", bad: true},
		{in: "mqtt://broker?x=1", bad: true},
	} {
		b, problem := ParseBrokerURL(c.in)
		if c.bad {
			if problem == "" {
				t.Errorf("%q: accepted as %+v, want refused", c.in, b)
			}
			continue
		}
		if problem != "" || b.URL != c.url || b.Username != c.user || b.Password != c.password || b.MaskedURL() != c.masked {
			t.Errorf("%q: %+v masked %q (%s), want %s %q %q masked %q", c.in, b, b.MaskedURL(), problem, c.url, c.user, c.password, c.masked)
		}
	}
}

func TestDiscoveryPrefixProblem(t *testing.T) {
	for p, ok := range map[string]bool{"homeassistant": true, "ha-2.test_x": true, "": false, "a/b": false,
		"a+": false, "#": false, "$SYS": false, "with space": false, "tab\t": false,
		"0123456789012345678901234567890123456789012345678901234567890123":  true,
		"01234567890123456789012345678901234567890123456789012345678901234": false} {
		if got := DiscoveryPrefixProblem(p) == ""; got != ok {
			t.Errorf("%q: accepted %v, want %v", p, got, ok)
		}
	}
}

func TestHomeAssistantAccount(t *testing.T) {
	for id, want := range map[string]string{
		"cu-7k2q": "ha_cu-7k2q",
		"c1":      "ha_c1",
		"a/b":     "ha_a_b_" + TopicSlug("a/b")[4:],
	} {
		got := HomeAssistantAccount(id)
		if got != want {
			t.Errorf("HomeAssistantAccount(%q) = %q, want %q", id, got, want)
		}
		// It is the discovery prefix on Replenish's broker: one level.
		if p := DiscoveryPrefixProblem(got); p != "" {
			t.Errorf("HomeAssistantAccount(%q) = %q is no discovery prefix: %s", id, got, p)
		}
	}
	if TopicSlug("a/b") == TopicSlug("a+b") || TopicSlug("a/b") == "a_b" {
		t.Errorf("slugs of IDs that changed must differ: %q %q", TopicSlug("a/b"), TopicSlug("a+b"))
	}
}
