package web

import (
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/coppice-dev/coppice/storage"
)

// policyForm sets the policy of one remote host.
type policyForm struct {
	Host   string
	Policy string // block, silence, reject_media, allow, or none
	Errors map[string]string
}

func policyFormFrom(r *http.Request) policyForm {
	return policyForm{Host: strings.ToLower(strings.TrimSpace(r.PostFormValue("host"))), Policy: r.PostFormValue("policy")}
}

// Validate returns a message per bad field, or nil. A host is a name with
// an optional port, as deliveries and actors record it, never a URL.
func (f policyForm) Validate() map[string]string {
	errs := map[string]string{}
	name := f.Host
	if h, port, err := net.SplitHostPort(f.Host); err == nil && port != "" {
		name = h
	}
	switch {
	case f.Host == "":
		errs["host"] = "required"
	case len(f.Host) > 253 || strings.ContainsAny(f.Host, "/@?#\\ ") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || name == "":
		errs["host"] = "give a host name such as social.example, without https://"
	}
	if p := storage.Policy(f.Policy); f.Policy == "" || (f.Policy != "none" && !p.Valid()) {
		errs["policy"] = "must be block, silence, reject_media, allow or none"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

type policyRow struct {
	Host   string
	Policy string
}

type federationView struct {
	Mode     string
	Policies []policyRow
	Hosts    []storage.KnownHost
	Form     policyForm
}

// federation shows the federation mode, the domain policies and the known
// hosts with their delivery health; admins only.
func (s *Site) federation(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	return s.renderFederation(w, r, cr, http.StatusOK, "", policyForm{Policy: "block"})
}

func (s *Site) renderFederation(w http.ResponseWriter, r *http.Request, cr *consoleReq, status int, problem string, f policyForm) error {
	mode, policies, err := s.community.FederationPolicy(r.Context())
	if err != nil {
		return err
	}
	hosts, err := s.community.KnownHosts(r.Context())
	if err != nil {
		return err
	}
	v := federationView{Mode: mode, Hosts: hosts, Form: f}
	for h, p := range policies {
		v.Policies = append(v.Policies, policyRow{Host: h, Policy: string(p)})
	}
	sort.Slice(v.Policies, func(i, j int) bool { return v.Policies[i].Host < v.Policies[j].Host })
	p := s.page(r, cr, "Federation", "federation")
	p.Problem, p.Data = problem, v
	return s.renderConsole(w, status, "admin_federation", p)
}

// setFederationMode switches between open federation and allowlist mode.
func (s *Site) setFederationMode(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	mode := r.PostFormValue("mode")
	err := s.community.SetFederationMode(r.Context(), mode)
	if status, msg, ok := problemOf(err); ok {
		return s.renderFederation(w, r, cr, status, msg, policyForm{Policy: "block"})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "federation mode", "", "", mode)
	return done(w, r, "/admin/federation", "mode")
}

// setDomainPolicy blocks, silences, allows or clears a host.
func (s *Site) setDomainPolicy(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	f := policyFormFrom(r)
	if f.Errors = f.Validate(); f.Errors != nil {
		return s.renderFederation(w, r, cr, http.StatusUnprocessableEntity, "", f)
	}
	policy := storage.Policy(f.Policy)
	if f.Policy == "none" {
		policy = storage.PolicyNone
	}
	if err := s.community.SetDomainPolicy(r.Context(), f.Host, policy); err != nil {
		return err
	}
	s.record(r, cr, "domain policy", "", f.Host, f.Policy)
	return done(w, r, "/admin/federation", "policy")
}

// retryHost makes the deliveries to a host due now.
func (s *Site) retryHost(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	if err := adminOnly(cr); err != nil {
		return err
	}
	host := r.PostFormValue("host")
	_, err := s.community.RetryHost(r.Context(), host)
	if status, msg, ok := problemOf(err); ok {
		return s.renderFederation(w, r, cr, status, msg, policyForm{Policy: "block"})
	}
	if err != nil {
		return err
	}
	s.record(r, cr, "retry host", "", host, "")
	return done(w, r, "/admin/federation", "retried")
}
