package web

import (
	"net/http"

	"replenish"
	"replenish/users"
)

// userAPIRoutes are the API's routes about console users.
func (s *Server) userAPIRoutes(mux *http.ServeMux) {
	s.api(mux, "POST /api/v1/vendors/{vendorCode}/users", s.createVendorUser, operator)
}

// createVendorUser adds a console user to a vendor.
func (s *Server) createVendorUser(w http.ResponseWriter, r *http.Request, _ replenish.Principal) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.Users.Create(r.Context(), users.NewUser{Email: in.Email, Password: in.Password,
		Role: replenish.RoleVendor, VendorCode: r.PathValue("vendorCode")})
	if replenish.ErrorCode(err) == replenish.EInvalid && err.(*replenish.Error).Fields["vendorCode"] != "" {
		return replenish.Errorf(replenish.ENotFound, "no vendor %s", r.PathValue("vendorCode"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}
