// Package browsertest drives a real headless Chromium from tests, through
// chromedp, and keeps a screenshot of each step under the test's artifact
// directory (go test -artifacts keeps them under _artifacts/; see
// docs/testing.md).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium tab bound to a test.
type Browser struct {
	t    testing.TB
	ctx  context.Context
	dir  string
	step int
}

// chromiumPath finds Debian's chromium (or another Chromium build named by
// REPLENISH_CHROMIUM).
func chromiumPath() (string, error) {
	if p := os.Getenv("REPLENISH_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's chromium package (.ci/run does) or set REPLENISH_CHROMIUM")
}

// New starts Chromium for t and closes it when t ends. A machine without
// Chromium fails the test rather than skipping it: the browser tests are
// part of the suite, and .ci/run installs Chromium.
func New(t *testing.T) *Browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(412, 915), // a phone screen: the pages must work there
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	return &Browser{t: t, ctx: ctx, dir: t.ArtifactDir()}
}

// Context is the tab's context, for chromedp actions the helpers below do
// not cover (chromedp.Do(b.Context(), ...)).
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs steps with a time limit, failing the test on error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// get runs one action that answers a value.
func get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// Visit loads url and waits for its body.
func (b *Browser) Visit(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Fill replaces the value of the field matching the CSS selector sel.
func (b *Browser) Fill(sel, text string) {
	b.t.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
	get(b, chromedp.Evaluate[bool](fmt.Sprintf(`(e => { e.value = ""; return true })(document.querySelector(%q))`, sel)))
	b.Do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Select chooses value in the <select> matching sel.
func (b *Browser) Select(sel, value string) {
	b.t.Helper()
	b.Do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// Upload sets the files of the file input matching sel.
func (b *Browser) Upload(sel string, paths ...string) {
	b.t.Helper()
	b.Do(chromedp.SetUploadFiles(chromedp.CSS(sel), paths))
}

// Click clicks the element matching sel and, when waitFor is not empty,
// waits until an element matching waitFor is visible (the next page).
func (b *Browser) Click(sel, waitFor string) {
	b.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(sel))}
	if waitFor != "" {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(waitFor)))
	}
	b.Do(steps...)
}

// WaitFor waits until an element matching sel is visible.
func (b *Browser) WaitFor(sel string) {
	b.t.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Shot saves a full-page screenshot named after the step, numbered in
// order, and returns its path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	png := get(b, chromedp.FullScreenshot(100)) // 100 is PNG; any other quality is JPEG
	b.step++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.step, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
	return path
}

// Text returns the visible text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

// Value returns the value of the form field matching sel.
func (b *Browser) Value(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Value(chromedp.CSS(sel)))
}

// Location returns the tab's current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	return get(b, chromedp.Location())
}
