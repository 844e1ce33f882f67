package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

// Images: decided from the bytes, at most 1 MiB, served back with their
// type, per marketplace with the default as fallback.

type uploadJSON struct {
	Image struct {
		ContentType string `json:"contentType"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		Bytes       int    `json:"bytes"`
	} `json:"image"`
	Warning string `json:"warning"`
}

func testImage(t *testing.T, kind string, bg color.Color) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	for y := 0; y < 10; y++ {
		for x := 0; x < 20; x++ {
			img.Set(x, y, bg)
		}
	}
	img.Set(10, 5, color.NRGBA{0, 0, 200, 255})
	var b bytes.Buffer
	var err error
	switch kind {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var whiteBG = color.NRGBA{255, 255, 255, 255}

// fetch GETs a public path and returns status, content type and body.
func fetch(t *testing.T, e *env, path string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestConsoleImages(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/DE", key, nil, nil)

	// No image yet.
	if status, _, _ := fetch(t, e, "/images/acme/printer"); status != http.StatusNotFound {
		t.Fatalf("image before upload: %d", status)
	}

	// Each format is recognised by its bytes, whatever the request says.
	for _, c := range []struct{ kind, contentType string }{
		{"bmp", "image/bmp"}, {"gif", "image/gif"}, {"jpeg", "image/jpeg"}, {"png", "image/png"},
	} {
		data := testImage(t, c.kind, whiteBG)
		var up uploadJSON
		e.must(http.StatusOK, "PUT", "/api/v1/models/printer/image", key, data, &up)
		if up.Image.ContentType != c.contentType || up.Image.Width != 20 || up.Image.Height != 10 ||
			up.Image.Bytes != len(data) || up.Warning != "" {
			t.Fatalf("%s upload: %+v", c.kind, up)
		}
		status, ct, body := fetch(t, e, "/images/acme/printer")
		if status != http.StatusOK || ct != c.contentType || !bytes.Equal(body, data) {
			t.Fatalf("%s served back: %d %s, %d bytes (want %d)", c.kind, status, ct, len(body), len(data))
		}
	}
	defaultPNG := testImage(t, "png", whiteBG)
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/image", key, defaultPNG, nil)

	// A marketplace without its own image falls back to the default; one
	// with its own serves it.
	if _, _, body := fetch(t, e, "/images/acme/printer/US"); !bytes.Equal(body, defaultPNG) {
		t.Fatal("US without its own image does not fall back to the default")
	}
	deGIF := testImage(t, "gif", color.NRGBA{0, 0, 0, 0})
	var up uploadJSON
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/DE/image", key, deGIF, &up)
	if status, ct, body := fetch(t, e, "/images/acme/printer/DE"); status != 200 || ct != "image/gif" || !bytes.Equal(body, deGIF) {
		t.Fatalf("DE image: %d %s", status, ct)
	}
	if _, _, body := fetch(t, e, "/images/acme/printer"); !bytes.Equal(body, defaultPNG) {
		t.Fatal("the default changed with DE's image")
	}
	var raw struct {
		Image    *struct{ ContentType string } `json:"image"`
		Listings map[string]struct {
			Image *struct {
				ContentType string `json:"contentType"`
			} `json:"image"`
		} `json:"listings"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/models/printer", key, nil, &raw)
	if raw.Image == nil || raw.Listings["DE"].Image == nil || raw.Listings["DE"].Image.ContentType != "image/gif" || raw.Listings["US"].Image != nil {
		t.Fatalf("model's images: default %+v, listings %+v", raw.Image, raw.Listings)
	}

	// A background neither white nor transparent is accepted with a warning.
	grey := testImage(t, "jpeg", color.NRGBA{80, 80, 80, 255})
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US/image", key, grey, &up)
	if !strings.Contains(up.Warning, "white or transparent") {
		t.Fatalf("grey background: warning %q", up.Warning)
	}
	if _, ct, _ := fetch(t, e, "/images/acme/printer/US"); ct != "image/jpeg" {
		t.Fatalf("the warned image was not kept: %s", ct)
	}

	// Refusals change nothing.
	before := snapshot(t, e, key, "/api/v1/models/printer")
	pngBytes := testImage(t, "png", whiteBG)
	for _, bad := range [][]byte{
		[]byte("GIF89a but not really"),
		[]byte("<svg xmlns='http://www.w3.org/2000/svg'/>"),
		pngBytes[:len(pngBytes)-20],
		{},
	} {
		e.refused(http.StatusBadRequest, "invalid", "image", "PUT", "/api/v1/models/printer/image", key, bad)
	}
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/printer/marketplaces/JP/image", key, pngBytes)
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/nope/image", key, pngBytes)
	unchanged(t, e, key, "/api/v1/models/printer", before, "refused images")
	if _, _, body := fetch(t, e, "/images/acme/printer"); !bytes.Equal(body, defaultPNG) {
		t.Fatal("a refused upload replaced the default image")
	}
	if status, _, _ := fetch(t, e, "/images/acme/nope"); status != http.StatusNotFound {
		t.Fatalf("unknown model's image: %d", status)
	}
}

func TestConsoleImageSizeLimit(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	// A real PNG padded with bytes after its end to exactly 1 MiB passes;
	// one byte more is 413 and changes nothing.
	exact := testImage(t, "png", whiteBG)
	exact = append(exact, make([]byte, 1<<20-len(exact))...)
	var up uploadJSON
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/image", key, exact, &up)
	if up.Image.Bytes != 1<<20 {
		t.Fatalf("stored %d bytes, want %d", up.Image.Bytes, 1<<20)
	}
	before := snapshot(t, e, key, "/api/v1/models/printer")
	over := append(append([]byte{}, exact...), 0)
	e.refused(http.StatusRequestEntityTooLarge, "too_large", "", "PUT", "/api/v1/models/printer/image", key, over)
	e.refused(http.StatusRequestEntityTooLarge, "too_large", "", "PUT", "/api/v1/models/printer/image", key, make([]byte, 5<<20))
	unchanged(t, e, key, "/api/v1/models/printer", before, "an image over 1 MiB")
}
