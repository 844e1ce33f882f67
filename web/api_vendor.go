package web

import (
	"net/http"

	"replenish"
)

// A vendor's credentials: the token-endpoint client secret and API keys.

func (s *Server) rotateClientSecret(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	cs, err := s.Console.RotateClientSecret(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, cs)
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	ks, err := s.Console.APIKeys(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ks))
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	k, err := s.Console.CreateAPIKey(r.Context(), p.VendorCode)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	if err := s.Console.RevokeAPIKey(r.Context(), p.VendorCode, r.PathValue("keyId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
