package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/console"
	"replenish/images"
	"replenish/measure"
	"replenish/users"
)

// consolePages are the Dash console's web pages: the vendor's wizard over
// the five steps of registering a device model, and the operator's review
// queues, catalog, vendors, orders and customer e-mails; both see vendor
// webhook deliveries. Every change goes through the same service methods
// as the JSON API.
func (s *Server) consolePages(mux *http.ServeMux) {
	// Vendors.
	mux.HandleFunc("GET /console/models", s.signedIn(s.modelsPage, vendor))
	mux.HandleFunc("POST /console/models", s.signedIn(s.createModelForm, vendor))
	mux.HandleFunc("GET /console/models/{modelId}", s.signedIn(s.modelStart, vendor))
	mux.HandleFunc("GET /console/models/{modelId}/{step}", s.signedIn(s.modelStep, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/marketplaces", s.signedIn(s.addMarketplaceForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/image", s.signedIn(s.imageForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/localization/{mp}", s.signedIn(s.localizationForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/slots", s.signedIn(s.addSlotForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/slots/{slotId}/remove", s.signedIn(s.removeSlotForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/slots/{slotId}/category", s.signedIn(s.slotCategoryForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/slots/{slotId}/products/{mp}", s.signedIn(s.slotProductsForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/requests", s.signedIn(s.requestsForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/test-accounts", s.signedIn(s.testAccountForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/test-accounts/remove", s.signedIn(s.removeTestAccountForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/certification", s.signedIn(s.submitCertificationForm, vendor))
	mux.HandleFunc("POST /console/models/{modelId}/certification/{mp}", s.signedIn(s.submitListingForm, vendor))
	mux.HandleFunc("GET /console/settings", s.signedIn(s.settingsPage, vendor))
	mux.HandleFunc("POST /console/settings", s.signedIn(s.settingsForm, vendor))
	mux.HandleFunc("POST /console/settings/client-secret", s.signedIn(s.rotateSecretForm, vendor))
	mux.HandleFunc("POST /console/settings/api-keys", s.signedIn(s.createKeyForm, vendor))
	mux.HandleFunc("POST /console/settings/api-keys/{keyId}/revoke", s.signedIn(s.revokeKeyForm, vendor))
	mux.HandleFunc("GET /console/notifications", s.signedIn(s.webhooksPage, vendor, operator))
	mux.HandleFunc("POST /console/notifications/{notificationId}/redeliver", s.signedIn(s.redeliverForm, vendor, operator))

	// The operator.
	mux.HandleFunc("GET /console/operator/requests", s.signedIn(s.reviewPage, operator))
	mux.HandleFunc("POST /console/operator/requests/{requestId}/assign", s.signedIn(s.assignForm, operator))
	mux.HandleFunc("POST /console/operator/requests/{requestId}/change", s.signedIn(s.changeForm, operator))
	mux.HandleFunc("POST /console/operator/requests/{requestId}/reject", s.signedIn(s.rejectForm, operator))
	mux.HandleFunc("GET /console/operator/certifications", s.signedIn(s.certificationsPage, operator))
	mux.HandleFunc("POST /console/operator/certifications/{vendorCode}/{modelId}/approve", s.signedIn(s.approveForm, operator))
	mux.HandleFunc("POST /console/operator/certifications/{vendorCode}/{modelId}/reject", s.signedIn(s.rejectCertificationForm, operator))
	mux.HandleFunc("GET /console/operator/audit", s.signedIn(s.auditPage, operator))
	mux.HandleFunc("GET /console/operator/catalog", s.signedIn(s.catalogPage, operator))
	mux.HandleFunc("POST /console/operator/products", s.signedIn(s.productForm, operator))
	mux.HandleFunc("GET /console/operator/vendors", s.signedIn(s.vendorsPage, operator))
	mux.HandleFunc("POST /console/operator/vendors", s.signedIn(s.createVendorForm, operator))
	mux.HandleFunc("POST /console/operator/users", s.signedIn(s.vendorUserForm, operator))
	mux.HandleFunc("GET /console/operator/vendors/{vendorCode}", s.signedIn(s.vendorPage, operator))
	mux.HandleFunc("GET /console/operator/vendors/{vendorCode}/models/{modelId}", s.signedIn(s.operatorModelPage, operator))
	mux.HandleFunc("POST /console/operator/vendors/{vendorCode}/models/{modelId}/details", s.signedIn(s.operatorDetailsForm, operator))
	mux.HandleFunc("POST /console/operator/vendors/{vendorCode}/models/{modelId}/marketplaces/{mp}/remove", s.signedIn(s.operatorRemoveMarketplaceForm, operator))
	mux.HandleFunc("POST /console/operator/vendors/{vendorCode}/models/{modelId}/delete", s.signedIn(s.operatorDeleteModelForm, operator))
	mux.HandleFunc("GET /console/operator/orders", s.signedIn(s.ordersPage, operator))
	mux.HandleFunc("POST /console/operator/orders/{orderId}/ship", s.signedIn(s.shipOrderForm, operator))
	mux.HandleFunc("POST /console/operator/orders/{orderId}/deliver", s.signedIn(s.deliverOrderForm, operator))
	mux.HandleFunc("POST /console/operator/orders/{orderId}/cancel", s.signedIn(s.cancelOrderForm, operator))
	mux.HandleFunc("GET /console/operator/emails", s.signedIn(s.emailsPage, operator))
}

// The vendor's pages.

func (s *Server) modelsPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showModels(w, r, u, &page{})
}

func (s *Server) showModels(w http.ResponseWriter, r *http.Request, u replenish.User, p *page) error {
	ms, err := s.Console.Models(r.Context(), u.VendorCode)
	if err != nil {
		return err
	}
	p.Title, p.Data = "Device models", ms
	s.render(w, r, p.statusOr(http.StatusOK), "models", p)
	return nil
}

func (s *Server) createModelForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := console.NewModel{Kind: r.PostForm.Get("kind"), Name: r.PostForm.Get("name"),
		ModelID: strings.TrimSpace(r.PostForm.Get("modelId")), DeviceType: strings.TrimSpace(r.PostForm.Get("deviceType"))}
	m, err := s.Console.CreateModel(r.Context(), u.Principal(), u.VendorCode, in)
	if err != nil {
		s.refuseWith(w, r, "create-model", err, func(p *page) error { return s.showModels(w, r, u, p) })
		return nil
	}
	seeOther(w, r, "/console/models/"+m.ModelID+"/customize", "created")
	return nil
}

// refuseWith shows a refused form on the page that show renders: input
// errors by their fields, anything else as the error page.
func (s *Server) refuseWith(w http.ResponseWriter, r *http.Request, formID string, err error, show func(p *page) error) {
	e, status := s.problem(r, err)
	if status >= 500 || status == http.StatusNotFound || status == http.StatusForbidden {
		s.errorPage(w, r, err)
		return
	}
	p := &page{Problem: e.Message, FormID: formID, Fields: e.Fields, Form: r.PostForm, status: status}
	if err := show(p); err != nil {
		s.errorPage(w, r, err)
	}
}

// The wizard's steps, in the order of the console's five steps, then the
// certification.
var modelSteps = []struct{ Path, Name string }{
	{"customize", "2. Customize"},
	{"consumables", "3. Consumables"},
	{"requests", "4. Replenishment IDs"},
	{"test-accounts", "5. Test accounts"},
	{"certification", "Certification"},
}

// modelView is what the wizard's pages show.
type modelView struct {
	Model        replenish.Model
	Step         string
	Steps        []struct{ Path, Name string }
	Marketplaces []replenish.Marketplace
	Categories   []string
	TestAccounts map[string][]string
	// Pickers holds, by slot ID and marketplace, the products the slot
	// may list there.
	Pickers map[string]map[string]picker
	// Missing is what the model lacks for certification, on that page.
	Missing replenish.Fields
}

func (s *Server) modelStart(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	http.Redirect(w, r, "/console/models/"+r.PathValue("modelId")+"/customize", http.StatusSeeOther)
	return nil
}

func (s *Server) modelStep(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showStep(w, r, u, r.PathValue("step"), &page{})
}

// showStep renders one step of the wizard for the model in the path.
func (s *Server) showStep(w http.ResponseWriter, r *http.Request, u replenish.User, step string, p *page) error {
	if !slices.ContainsFunc(modelSteps, func(st struct{ Path, Name string }) bool { return st.Path == step }) {
		return replenish.Errorf(replenish.ENotFound, "no step %s", step)
	}
	ctx := r.Context()
	m, err := s.Console.Model(ctx, u.VendorCode, r.PathValue("modelId"))
	if err != nil {
		return err
	}
	mps, err := s.Console.Marketplaces(ctx)
	if err != nil {
		return err
	}
	v := &modelView{Model: m, Step: step, Steps: modelSteps, Marketplaces: mps, Categories: catalog.Categories}
	if step == "test-accounts" {
		v.TestAccounts = map[string][]string{}
		for _, mp := range m.Marketplaces {
			if v.TestAccounts[mp], err = s.Console.TestAccounts(ctx, u.VendorCode, m.ModelID, mp); err != nil {
				return err
			}
		}
	}
	if step == "consumables" {
		if v.Pickers, err = s.pickers(r, m); err != nil {
			return err
		}
	}
	if step == "certification" {
		if v.Missing, err = s.Console.Missing(ctx, u.VendorCode, m.ModelID); err != nil {
			return err
		}
	}
	p.Title, p.Data = m.Name, v
	s.render(w, r, p.statusOr(http.StatusOK), "model-"+step, p)
	return nil
}

// picker is the choice of products of one slot in one marketplace.
type picker struct {
	Choices []productChoice
	// Offered counts the catalog's products on offer for the slot, the
	// placeholder aside: with none, the page says what to do.
	Offered int
}

// productChoice is one checkbox of a picker.
type productChoice struct {
	ProductID, Title, Price, Currency string
	// Listed is whether the slot lists it now.
	Listed      bool
	Placeholder bool
	// Withdrawn marks a listed product no longer on offer for the slot,
	// shown so that the vendor sees it and can untick it.
	Withdrawn bool
}

// pickers builds the product pickers of every slot of m in every
// marketplace of m: the placeholder, the products on offer for the slot's
// category (from the console's Offered), and any listed product no longer
// among them.
func (s *Server) pickers(r *http.Request, m replenish.Model) (map[string]map[string]picker, error) {
	out := map[string]map[string]picker{}
	offered := map[[2]string][]replenish.Product{}
	for _, sl := range m.Slots {
		out[sl.SlotID] = map[string]picker{}
		for _, mp := range m.Marketplaces {
			key := [2]string{sl.Category, mp}
			ps, ok := offered[key]
			if !ok {
				var err error
				if ps, err = s.Console.Offered(r.Context(), sl.Category, mp); err != nil {
					return nil, err
				}
				offered[key] = ps
			}
			listed := sl.Products[mp]
			ph := catalog.PlaceholderProductID(mp)
			pk := picker{Choices: []productChoice{{ProductID: ph, Title: "Placeholder product, for testing",
				Listed: slices.Contains(listed, ph), Placeholder: true}}}
			for _, p := range ps {
				if p.ProductID == ph {
					continue
				}
				o := p.Offers[mp]
				pk.Choices = append(pk.Choices, productChoice{ProductID: p.ProductID, Title: o.Title, Price: o.Price,
					Currency: o.Currency, Listed: slices.Contains(listed, p.ProductID)})
				pk.Offered++
			}
			for _, id := range listed {
				if !slices.ContainsFunc(pk.Choices, func(c productChoice) bool { return c.ProductID == id }) {
					pk.Choices = append(pk.Choices, productChoice{ProductID: id, Listed: true, Withdrawn: true})
				}
			}
			out[sl.SlotID][mp] = pk
		}
	}
	return out, nil
}

// onStep runs change for the model in the path and goes back to step:
// with a notice when it worked, with the refused form when it did not.
func (s *Server) onStep(w http.ResponseWriter, r *http.Request, u replenish.User, step, formID, done string, change func() error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := change(); err != nil {
		s.refuseWith(w, r, formID, err, func(p *page) error { return s.showStep(w, r, u, step, p) })
		return nil
	}
	seeOther(w, r, "/console/models/"+r.PathValue("modelId")+"/"+step, done)
	return nil
}

func (s *Server) addMarketplaceForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "customize", "add-marketplace", "added", func() error {
		mp := r.PostForm.Get("marketplace")
		if mp == "" {
			return replenish.FieldError("marketplace", "choose a marketplace")
		}
		_, err := s.Console.AddMarketplace(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), mp)
		return err
	})
}

// imageForm uploads the model's default image, or its image in one
// marketplace. An image accepted with a warning shows the warning.
func (s *Server) imageForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	warning := ""
	err := func() error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		file, _, err := r.FormFile("image")
		if err != nil {
			return replenish.FieldError("image", "choose an image file: BMP, JPEG, PNG or GIF, at most 1 MiB")
		}
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, images.MaxBytes+1))
		if err != nil {
			return err
		}
		if len(data) > images.MaxBytes {
			return replenish.FieldError("image", "the image is over 1 MiB")
		}
		_, warning, err = s.Console.PutImage(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), r.PostForm.Get("marketplace"), data)
		if e := (*replenish.Error)(nil); errors.As(err, &e) && e.Code != replenish.EInternal && len(e.Fields) == 0 && e.Code != replenish.ELocked {
			// The image's own problems are told by the file input.
			return &replenish.Error{Code: e.Code, Message: e.Message, Fields: map[string]string{"image": e.Message}, Err: e.Err}
		}
		return err
	}()
	switch {
	case err != nil:
		s.refuseWith(w, r, "image", err, func(p *page) error { return s.showStep(w, r, u, "customize", p) })
	case warning != "":
		return s.showStep(w, r, u, "customize", &page{Notice: "Image saved, with a warning: " + warning + "."})
	default:
		seeOther(w, r, "/console/models/"+r.PathValue("modelId")+"/customize", "saved")
	}
	return nil
}

// localizationForm sets the customer-facing names in one marketplace: the
// device's (deviceName) and each slot's (slotNames.<slotId>).
func (s *Server) localizationForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	mp := r.PathValue("mp")
	return s.onStep(w, r, u, "customize", "names-"+mp, "saved", func() error {
		in := console.Localization{DeviceName: r.PostForm.Get("deviceName"), SlotNames: map[string]string{}}
		for k, v := range r.PostForm {
			if slot, ok := strings.CutPrefix(k, "slotNames."); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
				in.SlotNames[slot] = v[0]
			}
		}
		_, err := s.Console.PutLocalization(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), mp, in)
		return err
	})
}

func (s *Server) removeSlotForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	slot := r.PathValue("slotId")
	return s.onStep(w, r, u, "consumables", "category-"+slot, "removed", func() error {
		_, err := s.Console.RemoveSlot(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), slot)
		return err
	})
}

func (s *Server) addSlotForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "consumables", "add-slot", "added", func() error {
		_, err := s.Console.AddSlot(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"),
			strings.TrimSpace(r.PostForm.Get("slotId")), r.PostForm.Get("category"))
		return err
	})
}

func (s *Server) slotCategoryForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	slot := r.PathValue("slotId")
	return s.onStep(w, r, u, "consumables", "category-"+slot, "saved", func() error {
		_, err := s.Console.SetSlotCategory(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), slot, r.PostForm.Get("category"))
		return err
	})
}

func (s *Server) slotProductsForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	slot, mp := r.PathValue("slotId"), r.PathValue("mp")
	return s.onStep(w, r, u, "consumables", "products-"+slot+"-"+mp, "saved", func() error {
		_, err := s.Console.SetSlotProducts(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), slot, mp, r.PostForm["productIds"])
		return fieldsOf(err, "productIds")
	})
}

// fieldsOf folds the field errors of a list ("productIds[1]") into the
// one input that holds the list.
func fieldsOf(err error, input string) error {
	e, ok := err.(*replenish.Error)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &replenish.Error{Code: e.Code, Message: e.Message, Fields: map[string]string{}, Err: e.Err}
	for k, v := range e.Fields {
		if strings.HasPrefix(k, input+"[") {
			k = input
		}
		if out.Fields[k] != "" {
			v = out.Fields[k] + "; " + v
		}
		out.Fields[k] = v
	}
	return out
}

// requestInputs names the inputs of the request form's nested fields.
var requestInputs = map[string]string{"measurement.type": "measurementType", "measurement.unit": "measurementUnit"}

// requestsForm saves the replenishment-ID requests of every slot that can
// still change, from one form whose fields are named <slotId>.<field>,
// and with "Submit all" then submits them together. Slots left blank are
// skipped when saving; submitting names them.
func (s *Server) requestsForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	submit := r.PostForm.Get("action") == "submit"
	done := "draft"
	if submit {
		done = "submitted"
	}
	return s.onStep(w, r, u, "requests", "requests", done, func() error {
		ctx, by, modelID := r.Context(), u.Principal(), r.PathValue("modelId")
		m, err := s.Console.Model(ctx, u.VendorCode, modelID)
		if err != nil {
			return err
		}
		f := replenish.Fields{}
		for _, sl := range m.Slots {
			if sl.Request != nil && sl.Request.Status == replenish.RequestAssigned {
				continue
			}
			in := console.RequestInput{
				SensorType: r.PostForm.Get(sl.SlotID + ".sensorType"),
				Measurement: replenish.Measurement{Type: measure.Type(r.PostForm.Get(sl.SlotID + ".measurementType")),
					Unit: measure.Unit(strings.TrimSpace(r.PostForm.Get(sl.SlotID + ".measurementUnit")))},
				Description: r.PostForm.Get(sl.SlotID + ".description"),
			}
			if sl.Request == nil && in == (console.RequestInput{}) {
				continue
			}
			_, err := s.Console.PutRequest(ctx, by, u.VendorCode, modelID, sl.SlotID, in)
			var e *replenish.Error
			switch {
			case err == nil:
			case errors.As(err, &e) && e.Code == replenish.EInvalid && len(e.Fields) > 0:
				for k, v := range e.Fields {
					if input, ok := requestInputs[k]; ok {
						k = input
					}
					f.Add(sl.SlotID+"."+k, v)
				}
			default:
				return err
			}
		}
		if err := f.Err(); err != nil || !submit {
			return err
		}
		_, err = s.Console.SubmitRequests(ctx, by, u.VendorCode, modelID)
		var e *replenish.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			// slots.<slotId>.<field> is shown by the slot's inputs.
			fields := map[string]string{}
			for k, v := range e.Fields {
				fields[strings.TrimPrefix(k, "slots.")] = v
			}
			return &replenish.Error{Code: e.Code, Message: e.Message, Fields: fields}
		}
		return err
	})
}

func (s *Server) testAccountForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "test-accounts", "add-test-account", "added", func() error {
		mp, id := r.PostForm.Get("marketplace"), strings.TrimSpace(r.PostForm.Get("customerId"))
		if id == "" {
			return replenish.FieldError("customerId", "required: the customer ID from the customer's profile page")
		}
		err := s.Console.PutTestAccount(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), mp, id)
		var e *replenish.Error
		if errors.As(err, &e) && (e.Code == replenish.ENotFound || e.Code == replenish.EConflict) {
			// Not a missing page: the typed customer or marketplace is
			// unknown, or the marketplace is full; say so by the input.
			code := e.Code
			if code == replenish.ENotFound {
				code = replenish.EInvalid
			}
			return &replenish.Error{Code: code, Message: e.Message, Fields: map[string]string{"customerId": e.Message}}
		}
		return err
	})
}

func (s *Server) removeTestAccountForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "test-accounts", "remove-test-account", "removed", func() error {
		return s.Console.DeleteTestAccount(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"),
			r.PostForm.Get("marketplace"), r.PostForm.Get("customerId"))
	})
}

// submitCertificationForm submits the model; when something is missing,
// the certification page lists every missing item.
func (s *Server) submitCertificationForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "certification", "certification", "submitted", func() error {
		_, err := s.Console.SubmitCertification(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"))
		return err
	})
}

// submitListingForm submits a marketplace added after the model's submission.
func (s *Server) submitListingForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onStep(w, r, u, "certification", "certification", "submitted", func() error {
		_, err := s.Console.SubmitListing(r.Context(), u.Principal(), u.VendorCode, r.PathValue("modelId"), r.PathValue("mp"))
		return err
	})
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showSettings(w, r, u, &page{})
}

// settingsView is the vendor's settings page: its settings and keys, and
// a secret or key made just now, shown this once.
type settingsView struct {
	Vendor       replenish.Vendor
	Keys         []replenish.APIKey
	ClientSecret *console.ClientSecret
	NewKey       *console.NewAPIKey
}

func (s *Server) showSettings(w http.ResponseWriter, r *http.Request, u replenish.User, p *page) error {
	v, _ := p.Data.(*settingsView)
	if v == nil {
		v = &settingsView{}
	}
	var err error
	if v.Vendor, err = s.Console.Vendor(r.Context(), u.VendorCode); err != nil {
		return err
	}
	if v.Keys, err = s.Console.APIKeys(r.Context(), u.VendorCode); err != nil {
		return err
	}
	p.Title, p.Data = "Settings", v
	s.render(w, r, p.statusOr(http.StatusOK), "settings", p)
	return nil
}

// rotateSecretForm gives the vendor a new client secret for the token
// endpoint and shows it once; the old one stops working at once.
func (s *Server) rotateSecretForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	cs, err := s.Console.RotateClientSecret(r.Context(), u.VendorCode)
	if err != nil {
		return err
	}
	return s.showSettings(w, r, u, &page{Notice: notices["rotated"], Data: &settingsView{ClientSecret: &cs}})
}

// createKeyForm gives the vendor another API key and shows it once.
func (s *Server) createKeyForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	k, err := s.Console.CreateAPIKey(r.Context(), u.VendorCode)
	if err != nil {
		return err
	}
	return s.showSettings(w, r, u, &page{Notice: notices["rotated"], Data: &settingsView{NewKey: &k}})
}

func (s *Server) revokeKeyForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.Console.RevokeAPIKey(r.Context(), u.VendorCode, r.PathValue("keyId")); err != nil {
		s.refuseWith(w, r, "api-keys", err, func(p *page) error { return s.showSettings(w, r, u, p) })
		return nil
	}
	seeOther(w, r, "/console/settings", "removed")
	return nil
}

func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := replenish.VendorSettings{
		SkillEndpointURL: strings.TrimSpace(r.PostForm.Get("skillEndpointUrl")), WebhookURL: strings.TrimSpace(r.PostForm.Get("webhookUrl")),
		OAuthAuthorizationURL: strings.TrimSpace(r.PostForm.Get("oauthAuthorizationUrl")),
		OAuthTokenURL:         strings.TrimSpace(r.PostForm.Get("oauthTokenUrl")),
		OAuthClientID:         strings.TrimSpace(r.PostForm.Get("oauthClientId")), OAuthClientSecret: r.PostForm.Get("oauthClientSecret"),
		AllowedExitURIs: strings.Fields(r.PostForm.Get("allowedExitUris")),
	}
	if _, err := s.Console.PutVendorSettings(r.Context(), u.VendorCode, in); err != nil {
		s.refuseWith(w, r, "settings", fieldsOf(err, "allowedExitUris"), func(p *page) error { return s.showSettings(w, r, u, p) })
		return nil
	}
	seeOther(w, r, "/console/settings", "saved")
	return nil
}

// The operator's pages.

// reviewView is the operator's queue of replenishment-ID requests.
type reviewView struct {
	Submitted []replenish.Request
	Decided   []replenish.Request
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showReview(w, r, &page{})
}

func (s *Server) showReview(w http.ResponseWriter, r *http.Request, p *page) error {
	all, err := s.Console.Requests(r.Context(), "")
	if err != nil {
		return err
	}
	v := reviewView{}
	for _, rq := range all {
		switch rq.Status {
		case replenish.RequestSubmitted:
			v.Submitted = append(v.Submitted, rq)
		case replenish.RequestAssigned, replenish.RequestRejected:
			v.Decided = append(v.Decided, rq)
		}
	}
	p.Title, p.Data = "Replenishment-ID requests", v
	s.render(w, r, p.statusOr(http.StatusOK), "operator-requests", p)
	return nil
}

// onReview runs decide on the request in the path and goes back to the queue.
func (s *Server) onReview(w http.ResponseWriter, r *http.Request, formID, done string, decide func(id string) error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := decide(r.PathValue("requestId")); err != nil {
		s.refuseWith(w, r, formID, err, func(p *page) error { return s.showReview(w, r, p) })
		return nil
	}
	seeOther(w, r, "/console/operator/requests", done)
	return nil
}

func (s *Server) assignForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onReview(w, r, "assign-"+r.PathValue("requestId"), "assigned", func(id string) error {
		a, err := assignmentForm(r)
		if err != nil {
			return err
		}
		_, err = s.Console.Assign(r.Context(), u.Principal(), id, a)
		return err
	})
}

// changeForm changes an assigned request's threshold, policy or service
// level.
func (s *Server) changeForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onReview(w, r, "change-"+r.PathValue("requestId"), "changed", func(id string) error {
		a, err := assignmentForm(r)
		if err != nil {
			return err
		}
		_, err = s.Console.ChangeAssignment(r.Context(), u.Principal(), id, a)
		return err
	})
}

// assignmentForm reads an assignment from a parsed form.
func assignmentForm(r *http.Request) (console.Assignment, error) {
	return assignmentIn{Threshold: numberText(r.PostForm.Get("threshold")), Policy: r.PostForm.Get("policy"),
		ServiceLevel: numberText(r.PostForm.Get("serviceLevel"))}.assignment()
}

func (s *Server) rejectForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onReview(w, r, "reject-"+r.PathValue("requestId"), "rejected", func(id string) error {
		_, err := s.Console.Reject(r.Context(), u.Principal(), id, r.PostForm.Get("reason"))
		return err
	})
}

// catalogView is the operator's catalog: marketplaces and products.
type catalogView struct {
	Marketplaces []replenish.Marketplace
	Products     []replenish.Product
	Categories   []string
	Edit         replenish.Product
}

func (s *Server) catalogPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showCatalog(w, r, &page{})
}

func (s *Server) showCatalog(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	mps, err := s.Console.Marketplaces(ctx)
	if err != nil {
		return err
	}
	v := catalogView{Marketplaces: mps, Categories: catalog.Categories}
	if v.Products, err = s.Console.Products(ctx); err != nil {
		return err
	}
	for _, pr := range v.Products {
		if pr.ProductID == r.URL.Query().Get("edit") {
			v.Edit = pr
		}
	}
	p.Title, p.Data = "Catalog", v
	s.render(w, r, p.statusOr(http.StatusOK), "operator-catalog", p)
	return nil
}

// productForm adds a product, or sets its details and its offer in one
// marketplace, keeping its offers in the others.
func (s *Server) productForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	in := replenish.Product{ProductID: strings.TrimSpace(f.Get("productId")), Category: f.Get("category"), PackUnit: f.Get("packUnit")}
	err := func() error {
		q, err := strconv.ParseFloat(strings.TrimSpace(f.Get("packQuantity")), 64)
		if err != nil {
			return replenish.FieldError("packQuantity", "must be a number, such as 20")
		}
		in.PackQuantity = q
		ps, err := s.Console.Products(r.Context())
		if err != nil {
			return err
		}
		in.Offers = map[string]replenish.Offer{}
		for _, pr := range ps {
			if pr.ProductID == in.ProductID {
				for mp, o := range pr.Offers {
					in.Offers[mp] = o
				}
			}
		}
		mp := f.Get("marketplace")
		// The price and currency are read as the API reads them, by PutProduct.
		in.Offers[mp] = replenish.Offer{Title: f.Get("title"), Price: f.Get("price"),
			Currency: f.Get("currency"), Available: f.Get("available") == "on"}
		_, err = s.Console.PutProduct(r.Context(), in)
		var e *replenish.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			// The form has one offer's inputs: name them, not offers.<mp>.<input>.
			fields := map[string]string{}
			for k, v := range e.Fields {
				k = strings.TrimPrefix(k, "offers."+mp+".")
				if k == "offers."+mp {
					k = "marketplace"
				}
				fields[k] = v
			}
			return &replenish.Error{Code: e.Code, Message: e.Message, Fields: fields}
		}
		return err
	}()
	if err != nil {
		s.refuseWith(w, r, "product", err, func(p *page) error { return s.showCatalog(w, r, p) })
		return nil
	}
	seeOther(w, r, "/console/operator/catalog", "saved")
	return nil
}

// vendorsView is the operator's vendors page.
type vendorsView struct {
	Users []replenish.User
	// Vendors are all the vendors, each linked to its models.
	Vendors []console.VendorSummary
	// Created is a vendor created just now, with its secrets shown once.
	Created *console.NewVendor
}

func (s *Server) vendorsPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if code := strings.TrimSpace(r.URL.Query().Get("open")); code != "" {
		http.Redirect(w, r, "/console/operator/vendors/"+url.PathEscape(code), http.StatusSeeOther)
		return nil
	}
	return s.showVendors(w, r, &page{})
}

func (s *Server) showVendors(w http.ResponseWriter, r *http.Request, p *page) error {
	us, err := s.Users.Users(r.Context(), "")
	if err != nil {
		return err
	}
	v, _ := p.Data.(*vendorsView)
	if v == nil {
		v = &vendorsView{}
	}
	vs, err := s.Console.Vendors(r.Context())
	if err != nil {
		return err
	}
	v.Users, v.Vendors = us, vs
	p.Title, p.Data = "Vendors", v
	s.render(w, r, p.statusOr(http.StatusOK), "operator-vendors", p)
	return nil
}

// createVendorForm creates a vendor and its first user, and shows the
// vendor's secrets this once.
func (s *Server) createVendorForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	code := strings.TrimSpace(r.PostForm.Get("vendorCode"))
	first := users.NewUser{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Role: replenish.RoleVendor, VendorCode: code}
	refuse := func(err error) error {
		r.PostForm.Del("password")
		s.refuseWith(w, r, "create-vendor", err, func(p *page) error { return s.showVendors(w, r, p) })
		return nil
	}
	// The user's fields are checked first, so that a refusal leaves no
	// vendor without a user behind.
	if err := users.Check(first); err != nil {
		return refuse(err)
	}
	nv, err := s.Console.CreateVendor(r.Context(), code, r.PostForm.Get("name"))
	if err != nil {
		return refuse(err)
	}
	if _, err := s.Users.Create(r.Context(), first); err != nil {
		// The vendor exists; its user can be added below with another e-mail.
		return refuse(err)
	}
	return s.showVendors(w, r, &page{Notice: "Vendor " + nv.VendorCode + " created with its first user.", Data: &vendorsView{Created: &nv}})
}

// vendorUserForm adds a user to an existing vendor.
func (s *Server) vendorUserForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	_, err := s.Users.Create(r.Context(), users.NewUser{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Role: replenish.RoleVendor, VendorCode: strings.TrimSpace(r.PostForm.Get("vendorCode"))})
	if err != nil {
		r.PostForm.Del("password")
		s.refuseWith(w, r, "add-user", err, func(p *page) error { return s.showVendors(w, r, p) })
		return nil
	}
	seeOther(w, r, "/console/operator/vendors", "added")
	return nil
}

// vendorPageView is the operator's page of one vendor: its models.
type vendorPageView struct {
	Vendor replenish.Vendor
	Models []replenish.Model
}

func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	ctx := r.Context()
	v, err := s.Console.Vendor(ctx, r.PathValue("vendorCode"))
	if err != nil {
		return err
	}
	ms, err := s.Console.Models(ctx, v.Code)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator-vendor", &page{Title: v.Name, Data: vendorPageView{Vendor: v, Models: ms}})
	return nil
}

// operatorModelView is the operator's page of a vendor's model: all of
// it, the changes the operator may make at any time, and its audit log.
type operatorModelView struct {
	Model replenish.Model
	Audit []replenish.AuditEntry
}

func (s *Server) operatorModelPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showOperatorModel(w, r, u, &page{})
}

func (s *Server) showOperatorModel(w http.ResponseWriter, r *http.Request, u replenish.User, p *page) error {
	ctx, code, id := r.Context(), r.PathValue("vendorCode"), r.PathValue("modelId")
	m, err := s.Console.Model(ctx, code, id)
	if err != nil {
		return err
	}
	es, err := s.Console.Audit(ctx, u.Principal(), code, id)
	if err != nil {
		return err
	}
	p.Title, p.Data = m.Name, operatorModelView{Model: m, Audit: es}
	s.render(w, r, p.statusOr(http.StatusOK), "operator-model", p)
	return nil
}

// onOperatorModel runs change on the model in the path and goes to next:
// with a notice when it worked, back to the model's page with the refused
// form when it did not.
func (s *Server) onOperatorModel(w http.ResponseWriter, r *http.Request, u replenish.User, formID, next, done string, change func(code, id string) error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := change(r.PathValue("vendorCode"), r.PathValue("modelId")); err != nil {
		s.refuseWith(w, r, formID, err, func(p *page) error { return s.showOperatorModel(w, r, u, p) })
		return nil
	}
	seeOther(w, r, next, done)
	return nil
}

// operatorModelPath is the operator's page of the model in the path.
func operatorModelPath(r *http.Request) string {
	return "/console/operator/vendors/" + r.PathValue("vendorCode") + "/models/" + r.PathValue("modelId")
}

// confirmed refuses a deletion whose confirmation box is not ticked: the
// pages need no script for an "are you sure".
func confirmed(r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		return replenish.FieldError("confirm", "tick the box to confirm the deletion")
	}
	return nil
}

// operatorDetailsForm changes a model's name and, for a connect-kit
// model, its device type.
func (s *Server) operatorDetailsForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.onOperatorModel(w, r, u, "details", operatorModelPath(r), "saved", func(code, id string) error {
		in := console.ModelPatch{}
		if r.PostForm.Has("name") {
			in.Name = new(r.PostForm.Get("name"))
		}
		if r.PostForm.Has("deviceType") {
			in.DeviceType = new(strings.TrimSpace(r.PostForm.Get("deviceType")))
		}
		_, err := s.Console.UpdateModel(r.Context(), u.Principal(), code, id, in)
		return err
	})
}

func (s *Server) operatorRemoveMarketplaceForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	mp := r.PathValue("mp")
	return s.onOperatorModel(w, r, u, "remove-"+mp, operatorModelPath(r), "removed", func(code, id string) error {
		if err := confirmed(r); err != nil {
			return err
		}
		_, err := s.Console.RemoveMarketplace(r.Context(), u.Principal(), code, id, mp)
		return err
	})
}

func (s *Server) operatorDeleteModelForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	next := "/console/operator/vendors/" + r.PathValue("vendorCode")
	return s.onOperatorModel(w, r, u, "delete-model", next, "deleted", func(code, id string) error {
		if err := confirmed(r); err != nil {
			return err
		}
		return s.Console.DeleteModel(r.Context(), u.Principal(), code, id)
	})
}

// certificationsPage is the operator's queue of models waiting for
// certification: a submitted model, or a certified one with marketplaces
// submitted since.
func (s *Server) certificationsPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	return s.showCertifications(w, r, &page{})
}

func (s *Server) showCertifications(w http.ResponseWriter, r *http.Request, p *page) error {
	ctx := r.Context()
	// Every model that can be submitted has assigned requests, so the
	// requests name every model the queue may hold.
	rs, err := s.Console.Requests(ctx, replenish.RequestAssigned)
	if err != nil {
		return err
	}
	var waiting []replenish.Model
	seen := map[[2]string]bool{}
	for _, rq := range rs {
		key := [2]string{rq.VendorCode, rq.ModelID}
		if seen[key] {
			continue
		}
		seen[key] = true
		m, err := s.Console.Model(ctx, rq.VendorCode, rq.ModelID)
		if replenish.ErrorCode(err) == replenish.ENotFound {
			continue // deleted since
		}
		if err != nil {
			return err
		}
		if m.Certification == replenish.CertSubmitted || slices.ContainsFunc(m.Marketplaces, func(mp string) bool {
			return m.Listings[mp].Status == replenish.ListingSubmitted
		}) {
			waiting = append(waiting, m)
		}
	}
	p.Title, p.Data = "Certification", waiting
	s.render(w, r, p.statusOr(http.StatusOK), "operator-certifications", p)
	return nil
}

// onCertification runs decide on the model in the path and goes back to
// the queue.
func (s *Server) onCertification(w http.ResponseWriter, r *http.Request, formID, done string, decide func() error) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := decide(); err != nil {
		s.refuseWith(w, r, formID, err, func(p *page) error { return s.showCertifications(w, r, p) })
		return nil
	}
	seeOther(w, r, "/console/operator/certifications", done)
	return nil
}

func (s *Server) approveForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	code, id := r.PathValue("vendorCode"), r.PathValue("modelId")
	return s.onCertification(w, r, "approve-"+code+"-"+id, "approved", func() error {
		_, err := s.Console.ApproveCertification(r.Context(), u.Principal(), code, id)
		return err
	})
}

func (s *Server) rejectCertificationForm(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	code, id := r.PathValue("vendorCode"), r.PathValue("modelId")
	return s.onCertification(w, r, "reject-"+code+"-"+id, "rejected", func() error {
		_, err := s.Console.RejectCertification(r.Context(), u.Principal(), code, id, r.PostForm.Get("reason"))
		return err
	})
}

// auditPage lists the operator's recorded changes of vendors' models.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, u replenish.User) error {
	es, err := s.Console.Audit(r.Context(), u.Principal(), "", "")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator-audit", &page{Title: "Audit log", Data: es})
	return nil
}
