// Package images checks the device images vendors upload: the format is
// decided from the bytes (never the file name or a header), the image
// must decode, and its size is bounded before it is decoded. Pure
// functions over bytes.
package images

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"

	"replenish"
)

// MaxBytes is the largest image accepted (1 MiB).
const MaxBytes = 1 << 20

// MaxPixels bounds the declared dimensions: a small file may declare a
// huge image that would take gigabytes to decode.
const MaxPixels = 40_000_000

// Checked is what Check learned of an image.
type Checked struct {
	ContentType string
	Width       int
	Height      int
	// Warning is set when the image is accepted with a reservation.
	Warning string
}

type format struct {
	contentType  string
	magic        []string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var formats = []format{
	{"image/png", []string{"\x89PNG\r\n\x1a\n"}, png.DecodeConfig, png.Decode},
	{"image/jpeg", []string{"\xff\xd8\xff"}, jpeg.DecodeConfig, jpeg.Decode},
	{"image/gif", []string{"GIF87a", "GIF89a"}, gif.DecodeConfig, gif.Decode},
	{"image/bmp", []string{"BM"}, bmp.DecodeConfig, bmp.Decode},
}

// Check decides the image's type from its first bytes, checks its
// declared dimensions, decodes it, and warns when its background is
// neither white nor transparent (judged by its four corners). Errors name
// the field "image".
func Check(data []byte) (Checked, error) {
	if len(data) > MaxBytes {
		return Checked{}, replenish.Errorf(replenish.ETooLarge, "the image is over %d bytes", MaxBytes)
	}
	if len(data) == 0 {
		return Checked{}, replenish.FieldError("image", "required: the image's bytes as the request body")
	}
	f, ok := sniff(data)
	if !ok {
		return Checked{}, replenish.FieldError("image", "not a BMP, JPEG, PNG or GIF image (judged by its bytes)")
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return Checked{}, replenish.FieldError("image", fmt.Sprintf("a damaged %s image: %v", f.contentType, err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Checked{}, replenish.FieldError("image", "the image has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return Checked{}, replenish.FieldError("image", fmt.Sprintf("%d×%d pixels is over the %d megapixels allowed",
			cfg.Width, cfg.Height, MaxPixels/1_000_000))
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return Checked{}, replenish.FieldError("image", fmt.Sprintf("a damaged %s image: %v", f.contentType, err))
	}
	c := Checked{ContentType: f.contentType, Width: cfg.Width, Height: cfg.Height}
	if !lightCorners(img) {
		c.Warning = "the background should be white or transparent: the image's corners are neither"
	}
	return c, nil
}

func sniff(data []byte) (format, bool) {
	for _, f := range formats {
		for _, m := range f.magic {
			if bytes.HasPrefix(data, []byte(m)) {
				return f, true
			}
		}
	}
	return format{}, false
}

// lightCorners reports whether each corner pixel is white (nearly) or
// transparent (nearly).
func lightCorners(img image.Image) bool {
	b := img.Bounds()
	for _, p := range []image.Point{b.Min, {b.Max.X - 1, b.Min.Y}, {b.Min.X, b.Max.Y - 1}, {b.Max.X - 1, b.Max.Y - 1}} {
		r, g, bl, a := img.At(p.X, p.Y).RGBA()
		const nearlyWhite, nearlyClear = 0xF000, 0x1000
		transparent := a < nearlyClear
		// RGBA is premultiplied: white at full alpha is 0xFFFF each.
		white := a >= 0xFFFF-nearlyClear && r >= nearlyWhite && g >= nearlyWhite && bl >= nearlyWhite
		if !transparent && !white {
			return false
		}
	}
	return true
}
