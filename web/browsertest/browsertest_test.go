package browsertest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"replenish/web/browsertest"
)

// TestBrowser checks that the harness drives a real page: it types into a
// form, submits it, reads what the server answered and keeps a screenshot.
func TestBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.ParseForm()
			w.Write([]byte(`<!doctype html><html><body><p id="out">hello ` + strings.ToUpper(r.FormValue("name")) + `</p></body></html>`))
			return
		}
		w.Write([]byte(`<!doctype html><html><body><form method="post"><input name="name" id="name"><button id="go">Go</button></form></body></html>`))
	}))
	defer srv.Close()
	b := browsertest.New(t)
	b.Visit(srv.URL)
	b.Fill("#name", "dash")
	b.Click("#go", "#out")
	if got := b.Text("#out"); got != "hello DASH" {
		t.Fatalf("page says %q, want %q", got, "hello DASH")
	}
	path := b.Shot("answer")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", path)
	}
}
