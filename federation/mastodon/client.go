package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// Scope is the one scope we ask for: reading the account, nothing else.
const Scope = "read:accounts"

// maxAnswer limits every JSON answer.
const maxAnswer = 64 << 10

// Client speaks the Mastodon client API. It implements
// community.AccountServer.
type Client struct {
	http    *http.Client
	name    string
	website string
}

// New returns a Client that sends its requests through client; name and
// website are what the member's server shows about the app.
func New(client *http.Client, name, website string) *Client {
	if client == nil {
		panic("mastodon: New with a nil client")
	}
	return &Client{http: client, name: name, website: website}
}

// RegisterApp registers an app with server (an origin) for redirectURI.
func (c *Client) RegisterApp(ctx context.Context, server, redirectURI string) (storage.OAuthApp, error) {
	form := url.Values{"client_name": {c.name}, "redirect_uris": {redirectURI}, "scopes": {Scope}}
	if c.website != "" {
		form.Set("website", c.website)
	}
	var app struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := c.post(ctx, server+"/api/v1/apps", form, &app); err != nil {
		return storage.OAuthApp{}, fmt.Errorf("register app with %s: %w", server, err)
	}
	if !isCredential(app.ClientID) || !isCredential(app.ClientSecret) {
		return storage.OAuthApp{}, fmt.Errorf("register app with %s: no usable client_id and client_secret", server)
	}
	return storage.OAuthApp{Server: server, RedirectURI: redirectURI, ClientID: app.ClientID, ClientSecret: app.ClientSecret}, nil
}

// AuthorizeURL is the server's page where the member approves the app.
func (c *Client) AuthorizeURL(app storage.OAuthApp, state, codeChallenge string) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {app.ClientID},
		"redirect_uri":          {app.RedirectURI},
		"scope":                 {Scope},
		"state":                 {state},
		"code_challenge":        {codeChallenge},
		"code_challenge_method": {"S256"},
	}
	return app.Server + "/oauth/authorize?" + q.Encode()
}

// Exchange trades an authorization code for an access token.
func (c *Client) Exchange(ctx context.Context, app storage.OAuthApp, code, codeVerifier string) (string, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"client_id":     {app.ClientID},
		"client_secret": {app.ClientSecret},
		"redirect_uri":  {app.RedirectURI},
		"code_verifier": {codeVerifier},
		"scope":         {Scope},
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := c.post(ctx, app.Server+"/oauth/token", form, &tok); err != nil {
		return "", fmt.Errorf("exchange code with %s: %w", app.Server, err)
	}
	if !isCredential(tok.AccessToken) || (tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer")) {
		return "", fmt.Errorf("exchange code with %s: no bearer access token", app.Server)
	}
	return tok.AccessToken, nil
}

// VerifyCredentials reads the account an access token belongs to.
func (c *Client) VerifyCredentials(ctx context.Context, server, accessToken string) (community.APIAccount, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/api/v1/accounts/verify_credentials", nil)
	if err != nil {
		return community.APIAccount{}, fmt.Errorf("verify credentials with %s: %w", server, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	var acct struct {
		Username string `json:"username"`
		Acct     string `json:"acct"`
	}
	if err := c.do(req, &acct); err != nil {
		return community.APIAccount{}, fmt.Errorf("verify credentials with %s: %w", server, err)
	}
	if acct.Username == "" {
		return community.APIAccount{}, fmt.Errorf("verify credentials with %s: no username", server)
	}
	return community.APIAccount{Username: acct.Username, Acct: acct.Acct}, nil
}

func (c *Client) post(ctx context.Context, rawURL string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader([]byte(form.Encode())))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, out)
}

// do sends req and decodes a 200 JSON answer of at most maxAnswer bytes
// into out.
func (c *Client) do(req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	if len(body) > maxAnswer {
		return errors.New("answer too large")
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("content type %q is not JSON", clip(mt))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("parse answer: %w", err)
	}
	return nil
}

// isCredential reports whether s looks like a client id, secret or token:
// 1 to 512 printable ASCII characters without spaces.
func isCredential(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
