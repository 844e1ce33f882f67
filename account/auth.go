package account

import (
	"net/http"
	"net/url"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/users"
)

// cookie is the customer's session cookie, apart from the console's, so
// that a vendor's staff can be signed in to the console and, as a
// customer, to these pages in one browser.
const cookie = "replenish_customer"

// handler is a page handler for a signed-in customer.
type handler func(w http.ResponseWriter, r *http.Request, u replenish.User) error

// signedIn lets in signed-in customers; anyone else goes to the sign-in
// page, which brings them back to the page asked for. The handler's
// errors become the error page.
func (s *Server) signedIn(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if c, err := r.Cookie(cookie); err == nil {
			token = c.Value
		}
		u, err := s.Users.User(r.Context(), token)
		if err == nil && (u.Role != replenish.RoleCustomer || u.CustomerID == "") {
			err = replenish.Errorf(replenish.EUnauthorized, "sign in as a customer")
		}
		if replenish.ErrorCode(err) == replenish.EUnauthorized {
			back := r.URL.RequestURI()
			if r.Method != http.MethodGet && strings.HasPrefix(r.URL.Path, "/account/") {
				back = "/account/"
			}
			http.Redirect(w, r, "/account/sign-in?next="+url.QueryEscape(back), http.StatusSeeOther)
			return
		}
		if err != nil {
			s.errorPage(w, r, nil, err)
			return
		}
		if err := h(w, r, u); err != nil {
			s.errorPage(w, r, &u, err)
		}
	}
}

// safeNext keeps a return path only when it is a path on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t\x00") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

// signForm is the sign-in and sign-up pages' data.
type signForm struct {
	Next         string
	Marketplaces []replenish.Marketplace
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "sign-in", &view{Title: "Sign in", Data: signForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "sign-up", &view{Title: "Create your account",
		Data: signForm{Next: safeNext(r.URL.Query().Get("next")), Marketplaces: catalog.Marketplaces}})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.errorPage(w, r, nil, err)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	sess, err := s.Users.SignIn(r.Context(), r.PostForm.Get("email"), r.PostForm.Get("password"))
	if err == nil && sess.User.Role != replenish.RoleCustomer {
		// A console user is not a customer; say so without ending their
		// console session.
		s.Users.SignOut(r.Context(), sess.Token)
		err = &replenish.Error{Code: replenish.EUnauthorized, Message: "this is a console account; sign in to the console instead",
			Fields: map[string]string{"email": "this is a console account: sign in at /console/sign-in"}}
	}
	if err != nil {
		r.PostForm.Del("password") // a refused password is not shown again
		v := &view{Title: "Sign in", Data: signForm{Next: next}}
		v.refuse(r, "sign-in", err, nil)
		_, status := s.problem(w, r, err)
		s.render(w, r, status, "sign-in", v)
		return
	}
	s.startSession(w, r, sess, next, "")
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.errorPage(w, r, nil, err)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	sess, err := s.Users.SignUp(r.Context(), users.SignUp{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Name: r.PostForm.Get("name"), Marketplace: r.PostForm.Get("marketplace")})
	if err != nil {
		r.PostForm.Del("password")
		v := &view{Title: "Create your account", Data: signForm{Next: next, Marketplaces: catalog.Marketplaces}}
		v.refuse(r, "sign-up", err, nil)
		_, status := s.problem(w, r, err)
		s.render(w, r, status, "sign-up", v)
		return
	}
	s.startSession(w, r, sess, next, "welcome")
}

// startSession sets the session cookie and goes on to next, or home.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, sess users.Session, next, done string) {
	http.SetCookie(w, &http.Cookie{Name: cookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(users.SessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	if next != "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	seeOther(w, r, "/account/", done)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookie); err == nil {
		if err := s.Users.SignOut(r.Context(), c.Value); err != nil {
			s.errorPage(w, r, nil, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: cookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	http.Redirect(w, r, "/account/sign-in", http.StatusSeeOther)
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or the service's public URL is https (behind a proxy).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.BaseURL, "https://")
}
