// Package mastodon is a client of the few parts of the Mastodon client API
// that let a member sign in to a Coppice site with the account they have:
// registering an app (POST /api/v1/apps), the OAuth 2.0 authorization code
// flow with PKCE (/oauth/authorize, /oauth/token) and reading the account
// (GET /api/v1/accounts/verify_credentials). Mastodon, GoToSocial, Akkoma,
// Pleroma and others speak it.
//
// Every request goes through the one guarded *http.Client of the process
// (federation/fetch), every answer is size-limited and parsed strictly. It
// decides nothing: internal/community checks what the answers mean.
package mastodon
