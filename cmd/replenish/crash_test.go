package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestBenchCrash is the crash check's short version: three SIGKILL-and-
// restart cycles of a real server process under load, then not one
// acknowledged event or order lost or doubled.
func TestBenchCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := buildChild(t, t.TempDir())
	var out bytes.Buffer
	err := run(t.Context(), []string{"replenish", "bench", "crash", "--cycles", "3", "--devices", "100", "--binary", bin},
		env(nil), &out, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cycle  3/3  SIGKILL", "2100 acknowledged", "0 lost at a kill, 0 missing at the end, 0 stored twice",
		"readings  2100 stored of 2100 sent", "300 for the 300 inks that went low: 0 lost, 0 doubled", "result    0 lost, 0 doubled"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output does not say %q", want)
		}
	}
}

// TestBenchSoak runs the soak for a few seconds: the load is answered,
// and each line has the server's figures.
func TestBenchSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	bin := buildChild(t, t.TempDir())
	var out bytes.Buffer
	err := run(t.Context(), []string{"replenish", "bench", "soak", "--duration", "3s", "--every", "1s", "--rate", "50",
		"--devices", "20", "--binary", bin}, env(nil), &out, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^ +\d+s +[\d.]+ +0 +\d+ +[\d.]+ MiB +\d+ +\d+ +[\d.]+ MiB +[\d.]+ MiB +\d+$`)
	if n := len(line.FindAllString(out.String(), -1)); n < 4 {
		t.Errorf("%d lines of figures, want one at the start and one a second for 3 s", n)
	}
	if !regexp.MustCompile(`soak: \d{2,} events answered 202 in 3s`).MatchString(out.String()) {
		t.Error("the summary does not count the events answered")
	}
}
