package web

import (
	"errors"
	"net/http"

	"replenish/linking"
)

func (s *Server) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/o2/token", s.token)
}

// token is the LWA-compatible token endpoint. The client authenticates
// with client_id and client_secret in the form, or with HTTP Basic.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, linking.OAuthError{Code: linking.ErrInvalidRequest,
			Description: "the body must be application/x-www-form-urlencoded"})
		return
	}
	in := linking.TokenRequest{
		GrantType: r.PostForm.Get("grant_type"), Code: r.PostForm.Get("code"),
		RefreshToken: r.PostForm.Get("refresh_token"),
		ClientID:     r.PostForm.Get("client_id"), ClientSecret: r.PostForm.Get("client_secret"),
	}
	if id, secret, ok := r.BasicAuth(); ok {
		in.ClientID, in.ClientSecret = id, secret
	}
	out, err := s.Linking.Token(r.Context(), in)
	var oe *linking.OAuthError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case errors.As(err, &oe) && oe.Code == linking.ErrInvalidClient:
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		writeJSON(w, http.StatusUnauthorized, oe)
	case errors.As(err, &oe):
		writeJSON(w, http.StatusBadRequest, oe)
	default:
		e, status := s.problem(r, err)
		writeJSON(w, status, linking.OAuthError{Code: "server_error", Description: e.Message})
	}
}
