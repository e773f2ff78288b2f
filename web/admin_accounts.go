package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// accountForm creates a console account.
type accountForm struct {
	Username string
	Password string
	Kind     string
	Errors   map[string]string
}

func (f accountForm) input() community.NewAccount {
	return community.NewAccount{Username: f.Username, Password: f.Password, Kind: f.Kind}
}

// Validate returns a message per bad field, or nil: the rules of `coppice
// admin create`.
func (f accountForm) Validate() map[string]string { return f.input().Validate() }

// stewardForm gives a steward account a community.
type stewardForm struct {
	Username  string
	Community string
	Role      string
	Errors    map[string]string
}

// Validate returns a message per bad field, or nil.
func (f stewardForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.Username == "" {
		errs["steward"] = "required"
	}
	if f.Community == "" {
		errs["community"] = "required"
	}
	if f.Role != storage.RoleModerator && f.Role != storage.RoleBroker {
		errs["role"] = "must be moderator or broker"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

type accountsView struct {
	Accounts    []community.ConsoleUser
	Stewards    []string // usernames of steward accounts
	Communities []storage.Community
	New         accountForm
	Steward     stewardForm
}

// accounts lists the console accounts with the forms that add accounts and
// stewards; admins only.
func (s *Site) accounts(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	return s.renderAccounts(w, r, cr, http.StatusOK, "", accountForm{Kind: storage.AccountSteward}, stewardForm{Role: storage.RoleModerator})
}

func (s *Site) renderAccounts(w http.ResponseWriter, r *http.Request, cr *consoleReq, status int, problem string, af accountForm, sf stewardForm) error {
	accounts, err := s.community.Accounts(r.Context())
	if err != nil {
		return err
	}
	cs, err := s.community.Communities(r.Context())
	if err != nil {
		return err
	}
	af.Password = "" // never sent back
	v := accountsView{Accounts: accounts, Communities: cs, New: af, Steward: sf}
	for _, a := range accounts {
		if !a.IsAdmin() {
			v.Stewards = append(v.Stewards, a.Account.Username)
		}
	}
	p := s.page(r, cr, "Accounts", "accounts")
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_accounts", p)
}

// createAccount creates an admin or steward account.
func (s *Site) createAccount(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	f := accountForm{Username: strings.TrimSpace(r.PostFormValue("username")), Password: r.PostFormValue("password"), Kind: r.PostFormValue("kind")}
	sf := stewardForm{Role: storage.RoleModerator}
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderAccounts(w, r, cr, http.StatusUnprocessableEntity, "", f, sf)
	}
	a, err := s.community.CreateAccount(r.Context(), f.input())
	if errors.Is(err, community.ErrConflict) {
		f.Errors = map[string]string{"username": "taken: choose another username"}
		return s.renderAccounts(w, r, cr, http.StatusConflict, "", f, sf)
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "account create", "", a.Username, a.Kind)
	return done(w, r, "/admin/accounts", "account")
}

// setSteward gives a steward account the charge of a community.
func (s *Site) setSteward(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	f := stewardForm{Username: r.PostFormValue("steward"), Community: r.PostFormValue("community"), Role: r.PostFormValue("role")}
	af := accountForm{Kind: storage.AccountSteward}
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderAccounts(w, r, cr, http.StatusUnprocessableEntity, "", af, f)
	}
	err := s.community.SetSteward(r.Context(), f.Username, f.Community, f.Role)
	if errs := fieldErrors(err); errs != nil {
		f.Errors = map[string]string{}
		for k, v := range errs {
			if k == "username" {
				k = "steward"
			}
			f.Errors[k] = v
		}
		return s.renderAccounts(w, r, cr, http.StatusUnprocessableEntity, "", af, f)
	}
	if status, msg, ok := problemOf(err); ok {
		return s.renderAccounts(w, r, cr, status, msg, af, f)
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "steward set", f.Community, f.Username, f.Role)
	return done(w, r, "/admin/accounts", "steward")
}

// removeSteward takes a community from a steward.
func (s *Site) removeSteward(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	username, name := r.PostFormValue("steward"), r.PostFormValue("community")
	err := s.community.RemoveSteward(r.Context(), username, name)
	if status, msg, ok := problemOf(err); ok {
		return s.renderAccounts(w, r, cr, status, msg, accountForm{Kind: storage.AccountSteward}, stewardForm{Role: storage.RoleModerator})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "steward remove", name, username, "")
	return done(w, r, "/admin/accounts", "unsteward")
}

// deleteAccount deletes another console account and ends its sessions.
func (s *Site) deleteAccount(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	username := r.PostFormValue("username")
	err := s.community.DeleteAccount(r.Context(), username, cr.username())
	if status, msg, ok := problemOf(err); ok {
		return s.renderAccounts(w, r, cr, status, msg, accountForm{Kind: storage.AccountSteward}, stewardForm{Role: storage.RoleModerator})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "account delete", "", username, "")
	return done(w, r, "/admin/accounts", "deleted")
}

// parseID reads a positive row ID from a form field.
func parseID(v string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("not a row id")
	}
	return id, nil
}
