package web

import (
	_ "embed"
	"net/http"
)

// openAPI describes every /api/v1 route (OpenAPI 3.1); a test holds it to
// the registered routes.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
