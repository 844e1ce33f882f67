package web

import (
	"net/http"

	"replenish"
)

// Certification: the vendor submits the model, and each marketplace added
// after; the operator approves or rejects.

func (s *Server) submitCertification(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	m, err := s.Console.SubmitCertification(r.Context(), p, vendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) submitListing(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	m, err := s.Console.SubmitListing(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) approveCertification(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	m, err := s.Console.ApproveCertification(r.Context(), p, r.PathValue("vendorCode"), r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) rejectCertification(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.RejectCertification(r.Context(), p, r.PathValue("vendorCode"), r.PathValue("modelId"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
