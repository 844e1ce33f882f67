package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"replenish"
	"replenish/images"
)

// Device images: uploaded raw through the API, served to anyone at
// /images/{vendorCode}/{modelId}[/{mp}] for the pages and e-mails.

// imageUpload is the answer to an upload.
type imageUpload struct {
	Image   replenish.ImageInfo `json:"image"`
	Warning string              `json:"warning,omitempty"`
}

func (s *Server) putModelImage(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	return s.putImage(w, r, p, vendorCode, "")
}

func (s *Server) putMarketplaceImage(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	return s.putImage(w, r, p, vendorCode, r.PathValue("mp"))
}

func (s *Server) putImage(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode, mp string) error {
	// Reading stops one byte past the limit: a larger body is never read
	// whole.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, images.MaxBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return replenish.Errorf(replenish.ETooLarge, "the image is over %d bytes", images.MaxBytes)
	case err != nil:
		return replenish.FieldError("image", "the body could not be read")
	}
	info, warning, err := s.Console.PutImage(r.Context(), p, vendorCode, r.PathValue("modelId"), mp, data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, imageUpload{Image: info, Warning: warning})
	return nil
}

func (s *Server) imageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /images/{vendorCode}/{modelId}", s.serveImage)
	mux.HandleFunc("GET /images/{vendorCode}/{modelId}/{mp}", s.serveImage)
}

// serveImage serves a model's image in a marketplace, or its default
// image when the marketplace has none or none is asked for.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) {
	img, err := s.Console.Image(r.Context(), r.PathValue("vendorCode"), r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", img.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(img.Data)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Last-Modified", img.UpdatedAt.UTC().Format(http.TimeFormat))
	w.Write(img.Data)
}
