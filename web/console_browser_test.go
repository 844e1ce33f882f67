package web_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"replenish"
	"replenish/users"
	"replenish/web/browsertest"
)

// The console's users in the browser tests.
const (
	vendorEmail    = "ann@inkco.example"
	vendorPassword = "ann's long password"
	opEmail        = "op@replenish.example"
	opPassword     = "operator password"
)

// consoleUsers gives env an operator user and a vendor "inkco" with a user.
func consoleUsers(t testing.TB, e *env) {
	t.Helper()
	createVendor(t, e, "inkco")
	for _, u := range []users.NewUser{
		{Email: opEmail, Password: opPassword, Role: replenish.RoleOperator},
		{Email: vendorEmail, Password: vendorPassword, Role: replenish.RoleVendor, VendorCode: "inkco"},
	} {
		if _, err := e.Server.Users.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// submit clicks the submit button sel and waits until the next page has
// loaded (a redirect after a change, or the refused form again).
func submit(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__stale = true`)); err != nil {
		t.Fatal(err)
	}
	b.Click(sel, "")
	// Evaluating fails while the page navigates: ask again until the new
	// document, which has no mark, has loaded.
	for {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__stale && document.readyState === "complete"`))
		if err == nil && loaded {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("after clicking %s, no new page: %v", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func signIn(t *testing.T, b *browsertest.Browser, url, email, password string) {
	t.Helper()
	b.Visit(url + "/console/")
	b.WaitFor("#sign-in")
	b.Fill("#email", email)
	b.Fill("#password", password)
	submit(t, b, "#sign-in button")
}

func signOut(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	submit(t, b, "header form button")
	if !strings.HasSuffix(b.Location(), "/console/sign-in") {
		t.Fatalf("after signing out at %s", b.Location())
	}
}

// wantNotice checks that the page says the change worked.
func wantNotice(t *testing.T, b *browsertest.Browser, want string) {
	t.Helper()
	if got := b.Text(".notice"); got != want {
		t.Fatalf("at %s the notice says %q, want %q", b.Location(), got, want)
	}
}

var inks = []struct{ slot, product, name string }{
	{"SLOT01", "INK-BLACK-1", "Black"},
	{"CYAN", "INK-CYAN-1", "Cyan"},
	{"MAGENTA", "INK-MAGENTA-1", "Magenta"},
	{"YELLOW", "INK-YELLOW-1", "Yellow"},
}

// TestConsolePagesRegisterPrinter walks the console's pages in a real
// browser, on a phone-sized screen: the operator adds the ink products to
// the catalog, a vendor user registers a printer with four ink slots
// through the five steps, the operator assigns the replenishment IDs, and
// the vendor sees them and adds a test account. Each step leaves a
// screenshot under the test's artifact directory.
func TestConsolePagesRegisterPrinter(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	testCustomer := createCustomer(t, e, "tester@inkco.example", "US")
	b := browsertest.New(t)

	// The operator fills the catalog.
	signIn(t, b, e.URL, opEmail, opPassword)
	if !strings.HasSuffix(b.Location(), "/console/operator/requests") {
		t.Fatalf("the operator lands on %s", b.Location())
	}
	b.Visit(e.URL + "/console/operator/catalog")
	for _, ink := range inks {
		b.Fill("#productId", ink.product)
		b.Select("#product-category", "INK")
		b.Fill("#packQuantity", "1")
		b.Fill("#packUnit", "Count")
		b.Select("#product-marketplace", "US")
		b.Fill("#currency", "USD")
		b.Fill("#title", ink.name+" ink cartridge")
		b.Fill("#price", "24.99")
		submit(t, b, "#product button")
		wantNotice(t, b, "Saved.")
	}
	b.Shot("operator-catalog")
	signOut(t, b)

	// Sign-in, with a wrong password first.
	signIn(t, b, e.URL, vendorEmail, "not the password")
	if got := b.Text("#sign-in .field-error"); got != "the e-mail or the password is wrong" {
		t.Fatalf("a wrong password says %q", got)
	}
	if b.Value("#email") != vendorEmail || b.Value("#password") != "" {
		t.Fatalf("the refused sign-in kept e-mail %q and password %q; want the e-mail only", b.Value("#email"), b.Value("#password"))
	}
	b.Shot("sign-in-refused")
	b.Fill("#password", vendorPassword)
	submit(t, b, "#sign-in button")
	if !strings.HasSuffix(b.Location(), "/console/models") {
		t.Fatalf("the vendor lands on %s", b.Location())
	}
	b.Shot("models")

	// Step 1: create the model.
	b.Select("#kind", "SKILL")
	b.Fill("#name", "InkJet 4000")
	b.Fill("#modelId", "inkjet-4000")
	submit(t, b, "#create-model button")
	wantNotice(t, b, "Created.")
	if !strings.HasSuffix(b.Location(), "/console/models/inkjet-4000/customize?done=created") {
		t.Fatalf("after creating, at %s", b.Location())
	}

	// Step 2: customize: the marketplace.
	b.Select("#marketplace", "US")
	submit(t, b, "#add-marketplace button")
	wantNotice(t, b, "Added.")
	b.Shot("customize")

	// Step 3: the four slots, their category and products.
	b.Visit(e.URL + "/console/models/inkjet-4000/consumables")
	b.Select("#category-SLOT01-category", "INK")
	submit(t, b, "#category-SLOT01 button")
	wantNotice(t, b, "Saved.")
	for _, ink := range inks[1:] {
		b.Fill("#slotId", ink.slot)
		b.Select("#add-slot-category", "INK")
		submit(t, b, "#add-slot button")
		wantNotice(t, b, "Added.")
	}
	for _, ink := range inks {
		// Tick the slot's ink, untick the placeholder.
		form := "#products-" + ink.slot + "-US"
		b.Click(form+"-"+ink.product, "")
		b.Click(form+"-PLACEHOLDER-BATTERIES-US", "")
		submit(t, b, form+" button")
		wantNotice(t, b, "Saved.")
		if !checked(t, b, form+"-"+ink.product) || checked(t, b, form+"-PLACEHOLDER-BATTERIES-US") {
			t.Fatalf("slot %s in US: %s not ticked, or the placeholder still is", ink.slot, ink.product)
		}
		if got := serviceModel(t, e, "inkco", "inkjet-4000").Slots; !slices.ContainsFunc(got, func(sl replenish.Slot) bool {
			return sl.SlotID == ink.slot && slices.Equal(sl.Products["US"], []string{ink.product})
		}) {
			t.Fatalf("slot %s does not list just %s in US: %+v", ink.slot, ink.product, got)
		}
	}
	b.Shot("consumables")

	// Step 4: describe the four sensors and submit them all at once.
	b.Visit(e.URL + "/console/models/inkjet-4000/requests")
	for _, ink := range inks {
		b.Select("#"+ink.slot+"-sensorType", "LEVEL")
		b.Select("#"+ink.slot+"-measurementType", "Percentage")
		b.Fill("#"+ink.slot+"-description", "optical sensor in the "+ink.name+" cartridge, whole percent")
	}
	b.Shot("requests-filled")
	submit(t, b, `button[value=submit]`)
	wantNotice(t, b, "Submitted for review.")
	if n := strings.Count(b.Text("#requests"), "SUBMITTED"); n != 4 {
		t.Fatalf("%d requests show SUBMITTED, want 4", n)
	}
	b.Shot("requests-submitted")
	signOut(t, b)

	// The operator assigns the four replenishment IDs.
	signIn(t, b, e.URL, opEmail, opPassword)
	b.Shot("operator-review-queue")
	for range inks {
		b.Fill(`form[id^="assign-"] input[name=threshold]`, "10")
		b.Select(`form[id^="assign-"] select[name=policy]`, "THRESHOLD")
		submit(t, b, `form[id^="assign-"] button`)
		wantNotice(t, b, "Replenishment ID assigned.")
	}
	b.WaitFor("#queue-empty")
	b.Shot("operator-assigned")
	signOut(t, b)

	// The vendor sees the IDs.
	signIn(t, b, e.URL, vendorEmail, vendorPassword)
	b.Visit(e.URL + "/console/models/inkjet-4000/requests")
	m := serviceModel(t, e, "inkco", "inkjet-4000")
	for _, sl := range m.Slots {
		if sl.Request == nil || sl.Request.ReplenishmentID == "" {
			t.Fatalf("slot %s has no replenishment ID", sl.SlotID)
		}
		if !strings.Contains(b.Text("#request-"+sl.SlotID), sl.Request.ReplenishmentID) {
			t.Fatalf("the page does not show slot %s's ID %s", sl.SlotID, sl.Request.ReplenishmentID)
		}
	}
	b.Shot("requests-assigned")

	// The certification page lists what is missing; submitting now is refused.
	b.Visit(e.URL + "/console/models/inkjet-4000/certification")
	submit(t, b, "#certification button")
	if got := b.Text("#certification .problem"); got != "Not submitted: something is missing, as listed below." {
		t.Fatalf("a refused submission says %q", got)
	}
	missing := b.Text("#missing")
	for _, want := range []string{"image", "listings.US.deviceName", "listings.US.slotNames.CYAN"} {
		if !strings.Contains(missing, want) {
			t.Fatalf("the missing items do not name %s:\n%s", want, missing)
		}
	}
	b.Shot("certification-refused")

	// Step 2 again: the image and the names customers in the US see.
	b.Visit(e.URL + "/console/models/inkjet-4000/customize")
	b.Upload("#image-file", whitePNG(t))
	submit(t, b, "#image button")
	wantNotice(t, b, "Saved.")
	b.WaitFor(`img[src="/images/inkco/inkjet-4000"]`)
	b.Fill("#names-US-deviceName", "InkJet 4000")
	for _, ink := range inks {
		b.Fill("#names-US-"+ink.slot, ink.name+" ink")
	}
	submit(t, b, "#names-US button")
	wantNotice(t, b, "Saved.")
	if got := b.Value("#names-US-MAGENTA"); got != "Magenta ink" {
		t.Fatalf("the magenta slot is called %q in the US", got)
	}
	b.Shot("customize-image-names")

	// Step 5: a test account.
	b.Visit(e.URL + "/console/models/inkjet-4000/test-accounts")
	b.Fill("#customerId", testCustomer)
	submit(t, b, "#add-test-account button")
	wantNotice(t, b, "Added.")
	if got := b.Text(".test-account"); got != testCustomer {
		t.Fatalf("test accounts show %q, want %s", got, testCustomer)
	}
	b.Shot("test-accounts")

	// Certification.
	b.Visit(e.URL + "/console/models/inkjet-4000/certification")
	b.WaitFor("#ready")
	submit(t, b, "#certification button")
	wantNotice(t, b, "Submitted for review.")
	if got := serviceModel(t, e, "inkco", "inkjet-4000").Certification; got != replenish.CertSubmitted {
		t.Fatalf("after submission the model is %s", got)
	}
	b.Shot("certification-submitted")
	signOut(t, b)

	// The operator approves it.
	signIn(t, b, e.URL, opEmail, opPassword)
	b.Visit(e.URL + "/console/operator/certifications")
	b.WaitFor("#cert-inkco-inkjet-4000")
	b.Shot("operator-certification-queue")
	submit(t, b, "#approve-inkco-inkjet-4000 button")
	wantNotice(t, b, "Approved: the model is live in its submitted marketplaces.")
	b.WaitFor("#certifications-empty")
	if got := serviceModel(t, e, "inkco", "inkjet-4000").Certification; got != replenish.CertCertified {
		t.Fatalf("after approval the model is %s", got)
	}
	b.Visit(e.URL + "/console/operator/audit")
	audit := b.Text("main table")
	for _, want := range []string{"operator " + opEmail + "\tinkco inkjet-4000\tapprove certification",
		"operator " + opEmail + "\tinkco inkjet-4000\tassign replenishment request of slot CYAN"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("the audit log lacks %q:\n%s", want, audit)
		}
	}
	b.Shot("operator-audit")

	// The operator changes the certified model's name from its page,
	// reached from the vendors list.
	b.Visit(e.URL + "/console/operator/vendors")
	submit(t, b, `#vendor-list a[href="/console/operator/vendors/inkco"]`)
	submit(t, b, `#vendor-models a[href="/console/operator/vendors/inkco/models/inkjet-4000"]`)
	b.Fill("#details-name", "InkJet 4000 (rev. B)")
	submit(t, b, "#details button")
	wantNotice(t, b, "Saved.")
	if got := serviceModel(t, e, "inkco", "inkjet-4000").Name; got != "InkJet 4000 (rev. B)" {
		t.Fatalf("after the operator's change the model is named %q", got)
	}
	if audit := b.Text("#model-audit"); !strings.Contains(audit, "operator "+opEmail+"\tchange model details") {
		t.Fatalf("the model's audit log lacks the change:\n%s", audit)
	}
	b.Shot("operator-model")
	signOut(t, b)

	// The vendor sees its model certified.
	signIn(t, b, e.URL, vendorEmail, vendorPassword)
	b.Visit(e.URL + "/console/models/inkjet-4000/certification")
	if got := b.Text("#certification-status .badge"); got != replenish.CertCertified {
		t.Fatalf("the vendor sees certification %q", got)
	}
	b.Shot("certified")
}

// checked reports whether the checkbox sel is ticked.
func checked(t *testing.T, b *browsertest.Browser, sel string) bool {
	t.Helper()
	on, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`).checked`))
	if err != nil {
		t.Fatalf("checkbox %s: %v", sel, err)
	}
	return on
}

// whitePNG writes a small PNG on a white background and returns its path.
func whitePNG(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.White)
			if x > 16 && x < 48 && y > 12 && y < 36 {
				img.Set(x, y, color.RGBA{40, 40, 60, 255}) // the printer
			}
		}
	}
	path := filepath.Join(t.TempDir(), "printer.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// serviceModel reads a model as the service has it.
func serviceModel(t *testing.T, e *env, vendorCode, modelID string) replenish.Model {
	t.Helper()
	m, err := e.Server.Console.Model(t.Context(), vendorCode, modelID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConsolePagesKeepRefusedInput: a refused form shows the message by
// the field and keeps what was typed; nothing changes.
func TestConsolePagesKeepRefusedInput(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	b := browsertest.New(t)
	signIn(t, b, e.URL, vendorEmail, vendorPassword)

	b.Select("#kind", "SKILL")
	b.Fill("#name", strings.Repeat("n", 61))
	b.Fill("#modelId", "bad id!")
	submit(t, b, "#create-model button")
	b.Shot("create-model-refused")
	for sel, want := range map[string]string{
		"#name + .field-error":    "must be 1 to 60 characters",
		"#modelId + .field-error": "must be 1 to 64 characters of A-Z a-z 0-9 . _ -, or left out to generate one",
	} {
		if got := b.Text(sel); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	if b.Value("#name") != strings.Repeat("n", 61) || b.Value("#modelId") != "bad id!" {
		t.Errorf("the refused form lost what was typed: name %q, modelId %q", b.Value("#name"), b.Value("#modelId"))
	}
	if ms, err := e.Server.Console.Models(t.Context(), "inkco"); err != nil || len(ms) != 0 {
		t.Errorf("after the refusal the vendor has models %v (%v)", ms, err)
	}

	// Correcting the field is enough.
	b.Fill("#name", "Printer")
	b.Fill("#modelId", "p-1")
	submit(t, b, "#create-model button")
	wantNotice(t, b, "Created.")

	// A refused slot, on a page with several forms: only that form shows it.
	b.Visit(e.URL + "/console/models/p-1/consumables")
	b.Fill("#slotId", "SLOT01")
	b.Select("#add-slot-category", "INK")
	submit(t, b, "#add-slot button")
	if got := b.Text("#slotId + .field-error"); got != "is taken" {
		t.Errorf("a taken slot ID says %q", got)
	}
	if b.Value("#slotId") != "SLOT01" || b.Value("#add-slot-category") != "INK" {
		t.Errorf("the refused slot form lost what was typed")
	}
	if strings.Contains(b.Text("#category-SLOT01"), "is taken") {
		t.Error("the refusal shows on another form too")
	}
	b.Shot("add-slot-refused")
}
