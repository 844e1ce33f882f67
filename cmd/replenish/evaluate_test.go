package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvaluate runs a small evaluation: the table on standard output,
// progress on standard error, the same figures into a Markdown file
// between its markers, and one policy alone.
func TestEvaluate(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "forecast.md")
	os.WriteFile(doc, []byte("# Forecasts\n\nbefore\n<!-- evaluate:begin -->\nold table\n<!-- evaluate:end -->\nafter\n"), 0o644)
	var out, errOut bytes.Buffer
	args := []string{"replenish", "evaluate", "--slots", "500", "--days", "90", "--seed", "7", "--markdown", doc}
	if err := run(context.Background(), args, env(nil), &out, &errOut); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"| threshold 10% |", "| forecast 95% |", "| lead-time bound |", "| oracle |", "seed 7"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "500 of 500 slots") {
		t.Errorf("no progress on stderr: %q", errOut.String())
	}
	raw, _ := os.ReadFile(doc)
	md := string(raw)
	table := out.String()[strings.Index(out.String(), "| policy"):]
	if strings.Contains(md, "old table") || !strings.Contains(md, table) ||
		!strings.HasPrefix(md, "# Forecasts\n\nbefore\n") || !strings.HasSuffix(md, "<!-- evaluate:end -->\nafter\n") {
		t.Errorf("Markdown file:\n%s", md)
	}

	out.Reset()
	args = []string{"replenish", "evaluate", "--slots", "100", "--days", "60", "--policy", "Forecast"}
	if err := run(context.Background(), args, env(nil), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| forecast 95% |") || strings.Contains(out.String(), "| oracle |") {
		t.Errorf("--policy forecast:\n%s", out.String())
	}
}

func TestEvaluateRefuses(t *testing.T) {
	noMarkers := filepath.Join(t.TempDir(), "plain.md")
	os.WriteFile(noMarkers, []byte("# nothing to replace\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--service-level", "100"}, "--service-level"},
		{[]string{"--policy", "magic"}, "--policy"},
		{[]string{"--thresholds", "10,x"}, "--thresholds"},
		{[]string{"--slots", "0"}, "--slots"},
		{[]string{"--slots", "10", "--days", "10", "--markdown", noMarkers}, "evaluate:begin"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"replenish", "evaluate"}, c.args...), env(nil), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("evaluate %v: %v, want an error naming %s", c.args, err, c.want)
		}
	}
	raw, _ := os.ReadFile(noMarkers)
	if string(raw) != "# nothing to replace\n" {
		t.Errorf("a file without markers was changed: %q", raw)
	}
}
