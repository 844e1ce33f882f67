package images_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"replenish"
	"replenish/images"
)

func picture(bg color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, bg)
		}
	}
	img.Set(8, 6, color.NRGBA{200, 0, 0, 255}) // the device, in the middle
	return img
}

func encode(t testing.TB, kind string, img image.Image) []byte {
	var b bytes.Buffer
	var err error
	switch kind {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	if err != nil {
		panic(err)
	}
	return b.Bytes()
}

var (
	white = color.NRGBA{255, 255, 255, 255}
	clear = color.NRGBA{0, 0, 0, 0}
	grey  = color.NRGBA{90, 90, 90, 255}
)

func TestCheckFormats(t *testing.T) {
	for _, c := range []struct{ kind, contentType string }{
		{"png", "image/png"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"bmp", "image/bmp"},
	} {
		got, err := images.Check(encode(t, c.kind, picture(white)))
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got.ContentType != c.contentType || got.Width != 16 || got.Height != 12 || got.Warning != "" {
			t.Fatalf("%s: %+v, want %s 16×12 without warning", c.kind, got, c.contentType)
		}
	}
}

func TestCheckWarnsAboutBackground(t *testing.T) {
	if got, err := images.Check(encode(t, "png", picture(clear))); err != nil || got.Warning != "" {
		t.Fatalf("transparent background: %+v, %v; want no warning", got, err)
	}
	for _, kind := range []string{"png", "jpeg", "bmp"} {
		got, err := images.Check(encode(t, kind, picture(grey)))
		if err != nil || !strings.Contains(got.Warning, "white or transparent") {
			t.Fatalf("%s on grey: %+v, %v; want accepted with a warning", kind, got, err)
		}
	}
	// One dark corner is enough to warn.
	img := picture(white)
	img.Set(15, 11, grey)
	if got, _ := images.Check(encode(t, "png", img)); got.Warning == "" {
		t.Fatal("a grey corner gave no warning")
	}
}

func TestCheckRefuses(t *testing.T) {
	good := encode(t, "png", picture(white))
	// A PNG declaring 10000×10000 pixels in a few bytes: refused before decoding.
	huge := append([]byte{}, good...)
	binary.BigEndian.PutUint32(huge[16:], 10000)
	binary.BigEndian.PutUint32(huge[20:], 10000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29])) // IHDR's checksum
	for _, c := range []struct {
		name string
		data []byte
		code string
		want string
	}{
		{"empty", nil, replenish.EInvalid, "required"},
		{"text named .png", []byte("hello, I am a png"), replenish.EInvalid, "not a BMP, JPEG, PNG or GIF"},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), replenish.EInvalid, "not a BMP"},
		{"WebP", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), replenish.EInvalid, "not a BMP"},
		{"truncated PNG", good[:len(good)/2], replenish.EInvalid, "damaged image/png"},
		{"PNG magic only", []byte("\x89PNG\r\n\x1a\n"), replenish.EInvalid, "damaged"},
		{"JPEG magic then junk", []byte("\xff\xd8\xff\xe0 junk junk junk"), replenish.EInvalid, "damaged image/jpeg"},
		{"too many pixels", huge, replenish.EInvalid, "megapixels"},
		{"over 1 MiB", make([]byte, images.MaxBytes+1), replenish.ETooLarge, "over"},
	} {
		_, err := images.Check(c.data)
		var e *replenish.Error
		if err == nil || replenish.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v; want %s containing %q", c.name, err, c.code, c.want)
		}
		if c.code == replenish.EInvalid {
			if !asError(err, &e) || e.Fields["image"] == "" {
				t.Fatalf("%s: error does not name the field image: %v", c.name, err)
			}
		}
	}
}

func asError(err error, e **replenish.Error) bool {
	x, ok := err.(*replenish.Error)
	*e = x
	return ok
}

// BenchmarkCheck measures checking the largest upload: a 500×500 PNG of
// random pixels (about 1 MB, near the 1 MiB limit), and a few bytes
// declaring 10000×10000 pixels, refused before decoding.
func BenchmarkCheck(b *testing.B) {
	img := image.NewNRGBA(image.Rect(0, 0, 500, 500))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rnd.Uint32())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	noisy := bytes.Clone(buf.Bytes())
	if len(noisy) > images.MaxBytes {
		noisy = nil
	}
	buf.Reset()
	png.Encode(&buf, picture(white))
	huge := append([]byte{}, buf.Bytes()...)
	binary.BigEndian.PutUint32(huge[16:], 10000)
	binary.BigEndian.PutUint32(huge[20:], 10000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	b.Run("png-500x500-random", func(b *testing.B) {
		if noisy == nil {
			b.Skip("the test image is over the limit")
		}
		b.SetBytes(int64(len(noisy)))
		for b.Loop() {
			if _, err := images.Check(noisy); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("declared-100-megapixels", func(b *testing.B) {
		for b.Loop() {
			if _, err := images.Check(huge); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}
