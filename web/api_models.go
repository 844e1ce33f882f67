package web

import (
	"net/http"

	"replenish"
	"replenish/console"
)

// A vendor's device models: their details, marketplaces, slots, product
// lists, replenishment-ID requests and test accounts. Each handler serves
// the vendor's route and the operator's twin (modelAPI).

func (s *Server) createModel(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in console.NewModel
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.CreateModel(r.Context(), p, vendorCode, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request, _ replenish.Principal, vendorCode string) error {
	ms, err := s.Console.Models(r.Context(), vendorCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(ms))
	return nil
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request, _ replenish.Principal, vendorCode string) error {
	m, err := s.Console.Model(r.Context(), vendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) patchModel(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in console.ModelPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.UpdateModel(r.Context(), p, vendorCode, r.PathValue("modelId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	if err := s.Console.DeleteModel(r.Context(), p, vendorCode, r.PathValue("modelId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addMarketplace(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	m, err := s.Console.AddMarketplace(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) removeMarketplace(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	m, err := s.Console.RemoveMarketplace(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) addSlot(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in struct {
		SlotID   string `json:"slotId"`
		Category string `json:"category"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.AddSlot(r.Context(), p, vendorCode, r.PathValue("modelId"), in.SlotID, in.Category)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) patchSlot(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in struct {
		Category string `json:"category"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.SetSlotCategory(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("slotId"), in.Category)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) removeSlot(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	m, err := s.Console.RemoveSlot(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("slotId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) putSlotProducts(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in struct {
		ProductIDs []string `json:"productIds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.SetSlotProducts(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("slotId"),
		r.PathValue("mp"), in.ProductIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) putRequest(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in console.RequestInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	req, err := s.Console.PutRequest(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("slotId"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (s *Server) submitRequests(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	rs, err := s.Console.SubmitRequests(r.Context(), p, vendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(rs))
	return nil
}

func (s *Server) listTestAccounts(w http.ResponseWriter, r *http.Request, _ replenish.Principal, vendorCode string) error {
	ids, err := s.Console.TestAccounts(r.Context(), vendorCode, r.PathValue("modelId"), r.PathValue("mp"))
	if err != nil {
		return err
	}
	type account struct {
		CustomerID string `json:"customerId"`
	}
	out := make([]account, len(ids))
	for i, id := range ids {
		out[i] = account{id}
	}
	writeJSON(w, http.StatusOK, items(out))
	return nil
}

func (s *Server) putTestAccount(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	if err := s.Console.PutTestAccount(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"),
		r.PathValue("customerId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteTestAccount(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	if err := s.Console.DeleteTestAccount(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"),
		r.PathValue("customerId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) modelAudit(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	es, err := s.Console.Audit(r.Context(), p, vendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(es))
	return nil
}

// listAudit is a vendor's audit log, or for the operator every vendor's
// (one vendor's with ?vendorCode=).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p replenish.Principal) error {
	vendorCode := p.VendorCode
	if p.Role == replenish.RoleOperator {
		vendorCode = r.URL.Query().Get("vendorCode")
	}
	es, err := s.Console.Audit(r.Context(), p, vendorCode, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, items(es))
	return nil
}

func (s *Server) putLocalization(w http.ResponseWriter, r *http.Request, p replenish.Principal, vendorCode string) error {
	var in console.Localization
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := s.Console.PutLocalization(r.Context(), p, vendorCode, r.PathValue("modelId"), r.PathValue("mp"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
