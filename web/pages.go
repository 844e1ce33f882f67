package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"replenish"
	"replenish/users"
)

// The web pages are server-rendered from embedded templates: each page is
// templates/<name>.html, rendered inside templates/layout.html. They need
// no JavaScript and no build step.
//
//go:embed templates static
var pageFiles embed.FS

// pageTemplates holds each page parsed with the layout, by page name.
var pageTemplates = func() map[string]*template.Template {
	names, err := fs.Glob(pageFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(pageFuncs).ParseFS(pageFiles, "templates/layout.html", name))
	}
	return out
}()

var pageFuncs = template.FuncMap{
	"join": strings.Join,
	"list": func(v ...string) []string { return v },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"deref": func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	},
	// serviceLevel is a request's, or the default for one assigned
	// before service levels were kept.
	"serviceLevel": func(f *float64) float64 {
		if f == nil {
			return replenish.DefaultServiceLevel
		}
		return *f
	},
}

// page is what every template gets: the layout's parts, the refused form
// if any, and the page's own data.
type page struct {
	Title string
	User  *replenish.User
	// Notice is a fixed message after a change succeeded.
	Notice string
	// Problem is the message of a refused form, FormID names that form,
	// Fields its field errors and Form what was typed, so that the page
	// shows each message by its field and keeps every value.
	Problem string
	FormID  string
	Fields  map[string]string
	Form    url.Values
	Data    any
	// status is the answer's status when not 200: a refusal's.
	status int
	// csp is the answer's Content-Security-Policy when not pageCSP.
	csp string
}

// pageCSP is the pages' Content-Security-Policy: nothing from elsewhere,
// no script, no inline style, never framed.
const pageCSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

func (p *page) statusOr(def int) int {
	if p.status != 0 {
		return p.status
	}
	return def
}

// Err returns the message for field when form is the refused one.
func (p *page) Err(form, field string) string {
	if p.FormID != form {
		return ""
	}
	return p.Fields[field]
}

// Val returns what was typed in field when form is the refused one, else def.
func (p *page) Val(form, field, def string) string {
	if p.FormID != form || p.Form == nil {
		return def
	}
	return p.Form.Get(field)
}

// Checked reports whether value was ticked in field when form is the
// refused one, else def.
func (p *page) Checked(form, field, value string, def bool) bool {
	if p.FormID != form || p.Form == nil {
		return def
	}
	return slices.Contains(p.Form[field], value)
}

// Refused reports whether form is the refused one.
func (p *page) Refused(form string) bool { return p.FormID == form && p.Problem != "" }

// notices are the messages a redirect after a change may show, named by
// the done query parameter; fixed, so that a link cannot make a page say
// anything else.
var notices = map[string]string{
	"saved":       "Saved.",
	"created":     "Created.",
	"added":       "Added.",
	"removed":     "Removed.",
	"deleted":     "Deleted.",
	"assigned":    "Replenishment ID assigned.",
	"changed":     "Policy changed: devices follow it from their next reading.",
	"rejected":    "Rejected; the vendor sees the reason.",
	"approved":    "Approved: the model is live in its submitted marketplaces.",
	"draft":       "Saved as drafts.",
	"submitted":   "Submitted for review.",
	"rotated":     "New credentials below: copy them now, they are not shown again.",
	"shipped":     "Marked shipped; the customer is told. The order is now under Shipped.",
	"delivered":   "Marked delivered; the customer is told.",
	"cancelled":   "Cancelled; the customer is told the reason.",
	"redelivered": "Queued to be sent again, with the same notification ID.",
}

// render writes the page name with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("done")]
	}
	if p.User == nil {
		if u, ok := r.Context().Value(userKey).(replenish.User); ok {
			p.User = &u
		}
	}
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Log.Error("rendering a page", "id", requestID(r.Context()), "page", name, "err", err)
		http.Error(w, "internal error; the request ID is "+requestID(r.Context()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	csp := pageCSP
	if p.csp != "" {
		csp = p.csp
	}
	w.Header().Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// errorPage shows err as a page of its own.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	e, status := s.problem(r, err)
	s.render(w, r, status, "error", &page{Title: http.StatusText(status), Problem: e.Message})
}

// seeOther redirects after a change, with the notice done.
func seeOther(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?done=" + done
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// The session cookie.
const sessionCookie = "replenish_session"

const userKey ctxKey = iota + 100

// pageHandler is a page handler for a signed-in user.
type pageHandler func(w http.ResponseWriter, r *http.Request, u replenish.User) error

// signedIn lets in users of the given roles; others go to the sign-in
// page, which brings them back here. The handler's errors become the
// error page.
func (s *Server) signedIn(h pageHandler, roles ...replenish.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(sessionCookie)
		token := ""
		if c != nil {
			token = c.Value
		}
		u, err := s.Users.User(r.Context(), token)
		if replenish.ErrorCode(err) == replenish.EUnauthorized {
			back := r.URL.Path
			if r.Method != http.MethodGet {
				back = "/console/"
			}
			http.Redirect(w, r, "/console/sign-in?next="+url.QueryEscape(back), http.StatusSeeOther)
			return
		}
		if err == nil {
			err = replenish.Errorf(replenish.EForbidden, "this page is for %s users", joinRoles(roles))
			for _, role := range roles {
				if u.Role == role {
					r = r.WithContext(contextWithUser(r, u))
					err = h(w, r, u)
					break
				}
			}
		}
		if err != nil {
			s.errorPage(w, r, err)
		}
	}
}

func contextWithUser(r *http.Request, u replenish.User) context.Context {
	return context.WithValue(r.Context(), userKey, u)
}

// home sends each user to the start of their part of the console.
func home(u replenish.User) string {
	if u.Role == replenish.RoleOperator {
		return "/console/operator/requests"
	}
	return "/console/models"
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "sign-in", &page{Title: "Sign in", Data: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.errorPage(w, r, err)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	sess, err := s.Users.SignIn(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"))
	if err != nil {
		r.PostForm.Del("password") // a refused password is not shown again
		s.refuseWith(w, r, "sign-in", err, func(p *page) error {
			p.Title, p.Data = "Sign in", next
			s.render(w, r, p.statusOr(http.StatusOK), "sign-in", p)
			return nil
		})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(users.SessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	if next == "" {
		next = home(sess.User)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.Users.SignOut(r.Context(), c.Value); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or the service's public URL is https (behind a proxy).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.BaseURL, "https://")
}

// safeNext keeps a return path only when it stays on this site's console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// parseForm reads a form body of at most MaxBody bytes (multipart too).
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody+64<<10)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(MaxBody + 64<<10)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return replenish.Errorf(replenish.ETooLarge, "the form is over %d bytes", MaxBody)
	}
	if err != nil {
		return replenish.FieldError("body", "a form is expected")
	}
	return nil
}

// pageRoutes adds the web pages, behind cross-origin protection: a form
// posted from another site is refused before any handler runs.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	pages := http.NewServeMux()
	static, _ := fs.Sub(pageFiles, "static")
	pages.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	pages.HandleFunc("GET /console/sign-in", s.signInPage)
	pages.HandleFunc("POST /console/sign-in", s.signIn)
	pages.HandleFunc("POST /console/sign-out", s.signOut)
	pages.HandleFunc("GET /console/{$}", s.signedIn(func(w http.ResponseWriter, r *http.Request, u replenish.User) error {
		http.Redirect(w, r, home(u), http.StatusSeeOther)
		return nil
	}, operator, vendor))
	s.consolePages(pages)
	pages.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, replenish.Errorf(replenish.ENotFound, "no page %s", r.URL.Path))
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, replenish.Errorf(replenish.EForbidden, "a form from another site was refused"))
	}))
	protected := cop.Handler(pages)
	mux.Handle("/console/", protected)
	mux.Handle("/static/", protected)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
}
