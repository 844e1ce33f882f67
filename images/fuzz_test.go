package images_test

import (
	"testing"

	"replenish/images"
)

// FuzzCheck: any bytes uploaded as an image never panic the check, and an
// accepted image has a known type and a size.
func FuzzCheck(f *testing.F) {
	for _, kind := range []string{"png", "jpeg", "gif", "bmp"} {
		f.Add(encode(nil, kind, picture(white)))
	}
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("BM"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := images.Check(data)
		if err != nil {
			return
		}
		if c.ContentType == "" || c.Width <= 0 || c.Height <= 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
