package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestCommands checks what a newcomer meets first: help, version, and
// clear errors for a wrong command or flag.
func TestCommands(t *testing.T) {
	tests := []struct {
		args    []string
		env     map[string]string
		wantErr string // "" for success
		wantOut string // in stdout or stderr
	}{
		{[]string{"replenish"}, nil, "no command given", "Commands:"},
		{[]string{"replenish", "help"}, nil, "", "serve"},
		{[]string{"replenish", "frobnicate"}, nil, `unknown command "frobnicate"`, "Commands:"},
		{[]string{"replenish", "version"}, nil, "", "replenish "},
		{[]string{"replenish", "serve", "--help"}, nil, "", "--operator-key"},
		{[]string{"replenish", "demo", "--help"}, nil, "", "made anew at every run"},
		{[]string{"replenish", "simulate", "--help"}, nil, "", "--speed"},
		{[]string{"replenish", "evaluate", "--help"}, nil, "", "lead-time bound"},
		{[]string{"replenish", "serve", "--no-such-flag"}, nil, "flag provided but not defined", ""},
		{[]string{"replenish", "serve", "extra"}, nil, `unexpected argument "extra"`, ""},
		{[]string{"replenish", "serve", "--claim-lease", "0s"}, nil, "--claim-lease: a positive duration", ""},
		{[]string{"replenish", "serve", "--operator-key", "short"}, nil, "--operator-key: at least 16", ""},
		{[]string{"replenish", "serve", "--addr", "nonsense"}, nil, "--addr", ""},
		{[]string{"replenish", "serve", "--base-url", "replenish.example"}, nil, "--base-url", ""},
		{[]string{"replenish", "serve"}, map[string]string{"REPLENISH_BASE_URL": "ftp://replenish.example"}, "--base-url", ""},
		{[]string{"replenish", "serve"}, map[string]string{"REPLENISH_LOG_LEVEL": "LOUD"}, "REPLENISH_LOG_LEVEL", ""},
		{[]string{"replenish", "serve", "--help"}, nil, "", "--gateway-rate"},
		{[]string{"replenish", "serve", "--gateway-rate", "-1"}, nil, "--gateway-rate: 0 or more", ""},
		{[]string{"replenish", "serve", "--gateway-burst", "0"}, nil, "--gateway-burst: at least 1", ""},
		{[]string{"replenish", "serve", "--mqtt-public-url", "mqtt://ha:secret@replenish.example:1883"}, nil, "--mqtt-public-url: no user name", ""},
		{[]string{"replenish", "serve", "--mqtt-public-url", "mqtt://replenish.example", "--mqtt-listen", ""}, nil, "--mqtt-public-url: only with the embedded broker", ""},
		{[]string{"replenish", "serve", "--mqtt-listen", "nowhere"}, nil, "--mqtt-listen", ""},
		{[]string{"replenish", "serve", "--mqtt-broker", "http://broker.example"}, nil, "--mqtt-broker: not a broker URL", ""},
		{[]string{"replenish", "serve", "--mqtt-tls-cert", "a.pem"}, nil, "--mqtt-tls-cert and --mqtt-tls-key", ""},
		{[]string{"replenish", "serve", "--device-rate", "-1"}, nil, "--device-rate: 0 or more", ""},
		{[]string{"replenish", "serve", "--report-state-after", "-1h"}, nil, "--report-state-after: 0 or a positive", ""},
		{[]string{"replenish", "serve"}, map[string]string{"REPLENISH_GATEWAY_RATE": "-5"}, "--gateway-rate: 0 or more", ""},
		{[]string{"replenish", "serve", "--help"}, nil, "", "--cancel-window"},
		{[]string{"replenish", "serve", "--cancel-window", "0s"}, nil, "--cancel-window: a positive duration", ""},
		{[]string{"replenish", "serve"}, map[string]string{"REPLENISH_UNRESOLVED_AFTER": "-1h"}, "--unresolved-after: a positive duration", ""},
		{[]string{"replenish", "serve", "--cancel-cooldown", "soon"}, nil, "invalid value", ""},
		{[]string{"replenish", "serve", "--test-delivery-after", "-1s"}, nil, "--test-delivery-after: 0 or a positive", ""},
		{[]string{"replenish", "serve", "--fulfilment", "carrier-pigeon"}, nil, `--fulfilment: "carrier-pigeon" is not an adapter`, ""},
		{[]string{"replenish", "serve", "--fulfilment", "webhook"}, nil, "--fulfilment-url", ""},
		{[]string{"replenish", "serve", "--fulfilment", "webhook", "--fulfilment-url", "https://shop.example/orders"}, nil, "--fulfilment-key: at least 16", ""},
		{[]string{"replenish", "serve", "--fulfilment-url", "https://shop.example/orders"}, nil, "--fulfilment-url: set --fulfilment webhook", ""},
		{[]string{"replenish", "serve"}, map[string]string{"REPLENISH_OPERATOR_KEY_FILE": "/no/such/secret"}, "REPLENISH_OPERATOR_KEY_FILE", ""},
		{[]string{"replenish", "simulate"}, nil, "--operator-key: required", ""},
		{[]string{"replenish", "simulate", "--operator-key", "k", "--auto", "3"}, nil, "--auto: a share from 0 to 1", ""},
		{[]string{"replenish", "simulate", "--operator-key", "k", "--kinds", "printer,toaster"}, nil, `--kinds: unknown kind "toaster"`, ""},
		{[]string{"replenish", "simulate", "--operator-key", "k", "--days", "0"}, nil, "--days: at least 1", ""},
		{[]string{"replenish", "simulate", "--operator-key", "k", "--devices", "0"}, nil, "--devices: at least 1", ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, env(tc.env), &out, &errOut)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String()+errOut.String(), tc.wantOut) {
				t.Fatalf("output lacks %q:\n%s%s", tc.wantOut, out.String(), errOut.String())
			}
		})
	}
}

// TestSecretFile: a secret can come from a file named by
// REPLENISH_<FLAG>_FILE, as container platforms mount them; the variable
// itself wins when both are set.
func TestSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"replenish", "serve"}, env(map[string]string{"REPLENISH_FULFILMENT_KEY_FILE": path}), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--fulfilment-key: at least 16") {
		t.Fatalf("a short key from a file: %v, want it read and refused", err)
	}
	err = run(context.Background(), []string{"replenish", "serve", "--addr", "nonsense"}, env(map[string]string{
		"REPLENISH_FULFILMENT_KEY_FILE": path, "REPLENISH_FULFILMENT_KEY": "a-long-enough-key-from-the-variable"}), &out, &out)
	if err == nil || strings.Contains(err.Error(), "fulfilment-key") {
		t.Fatalf("the variable did not win over the file: %v", err)
	}
}

// TestFirstStart: the first serve creates the operator and prints its key
// once; the next start on the same database prints none, and the key
// still works. The environment sets the flags.
func TestFirstStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "first.db")
	vars := map[string]string{"REPLENISH_DB": db, "REPLENISH_ADDR": "127.0.0.1:0", "REPLENISH_MQTT_LISTEN": "127.0.0.1:0"}
	keyLine := regexp.MustCompile(`(?m)^\s+(rk_op_\S+)$`)
	start := func() (string, string) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out, logs lockedBuffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"replenish", "serve"}, env(vars), &out, &logs) }()
		addr := regexp.MustCompile(`msg="replenish is ready" addr=(\S+)`)
		for deadline := time.Now().Add(20 * time.Second); ; {
			if m := addr.FindStringSubmatch(logs.String()); m != nil {
				url := "http://" + m[1]
				key := ""
				if k := keyLine.FindStringSubmatch(out.String()); k != nil {
					key = k[1]
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				return url, key
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve was not ready:\n%s\n%s", out.String(), logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	_, key := start()
	if key == "" {
		t.Fatal("the first start printed no operator key")
	}
	_, again := start()
	if again != "" {
		t.Fatalf("the second start printed a key again: %s", again)
	}

	// The key printed at the first start is the operator's.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"replenish", "serve"}, env(vars), &out, &logs) }()
	defer func() { cancel(); <-done }()
	addr := regexp.MustCompile(`addr=(\S+)`)
	for deadline := time.Now().Add(20 * time.Second); !addr.MatchString(logs.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("serve was not ready:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := "http://" + addr.FindStringSubmatch(logs.String())[1]
	req, _ := http.NewRequest("GET", url+"/api/v1/replenishment-requests", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the printed key on an operator route: %d", resp.StatusCode)
	}
}
