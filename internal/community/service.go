package community

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/internal/markdown"
	"github.com/coppice-dev/coppice/internal/sanitize"
	"github.com/coppice-dev/coppice/storage"
)

// ErrNotFound means the thing asked for does not exist.
var ErrNotFound = storage.ErrNotFound

// ErrConflict means the thing to create exists already.
var ErrConflict = storage.ErrConflict

// ErrForbidden means the actor may not do what it asked.
var ErrForbidden = errors.New("forbidden")

// ErrGone is what asking for something that was withdrawn gets: an
// announce of a post since deleted or removed (410).
var ErrGone = errors.New("gone")

// InvalidError reports input that breaks a rule, field by field.
type InvalidError struct {
	Fields map[string]string
}

func (e *InvalidError) Error() string {
	var parts []string
	for _, k := range sortedKeys(e.Fields) {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid " + strings.Join(parts, "; ")
}

// Service applies the rules of communities of practice to the store.
type Service struct {
	store    *storage.Store
	now      func() time.Time
	log      *slog.Logger
	render   Renderer
	queued   func() // told after deliveries may have been committed
	sanitize *sanitize.Policy
	markdown *markdown.Renderer
}

// inTx runs fn in one transaction and, once it committed, tells the
// delivery worker that deliveries may be waiting.
func (s *Service) inTx(ctx context.Context, fn func(tx *storage.Tx) error) error {
	if err := s.store.InTx(ctx, fn); err != nil {
		return err
	}
	s.queued()
	return nil
}

// Options are the optional parts of a Service.
type Options struct {
	// Render builds outgoing activities; without it, operations that send
	// fail.
	Render Renderer
	// Queued is called after a transaction queued deliveries, so an
	// in-process delivery worker starts at once.
	Queued func()
}

// New returns a Service over store. now is the clock every rule reads.
func New(store *storage.Store, now func() time.Time, log *slog.Logger, opt Options) *Service {
	s := &Service{store: store, now: now, log: log, render: opt.Render, queued: opt.Queued, sanitize: sanitize.New(), markdown: markdown.New()}
	if s.queued == nil {
		s.queued = func() {}
	}
	return s
}

// Join modes of a community.
const (
	JoinOpen     = "open"
	JoinApproval = "approval"
	JoinInvite   = "invite"
)

// Posting policies of a community.
const (
	PostMembers    = "members"
	PostAnyone     = "anyone"
	PostModerators = "moderators"
)

// Limits on community fields.
const (
	MaxTitle   = 200
	MaxSummary = 5000
)

// nameRE is the shape of a community name: what Mastodon accepts as the
// user part of a handle, restricted to lower case so @Seeds and @seeds are
// never two communities.
var nameRE = regexp.MustCompile(`^[a-z0-9_]{2,64}$`)

// NewCommunity is the input of CreateCommunity.
type NewCommunity struct {
	Name     string
	Title    string
	Summary  string
	Rules    string
	JoinMode string // empty means open
}

// Validate returns a message per bad field, or nil.
func (n NewCommunity) Validate() map[string]string {
	errs := map[string]string{}
	if !nameRE.MatchString(n.Name) {
		errs["name"] = "use 2 to 64 lower-case letters, digits or underscores"
	}
	if strings.TrimSpace(n.Title) == "" {
		errs["title"] = "required"
	} else if utf8.RuneCountInString(n.Title) > MaxTitle {
		errs["title"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	if utf8.RuneCountInString(n.Summary) > MaxSummary {
		errs["summary"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	if utf8.RuneCountInString(n.Rules) > MaxSummary {
		errs["rules"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	switch n.JoinMode {
	case "", JoinOpen, JoinApproval, JoinInvite:
	default:
		errs["join"] = "must be open, approval or invite"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// CreateCommunity creates a community with a fresh RSA-2048 key pair.
func (s *Service) CreateCommunity(ctx context.Context, n NewCommunity) (storage.Community, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Community{}, &InvalidError{Fields: errs}
	}
	if n.JoinMode == "" {
		n.JoinMode = JoinOpen
	}
	priv, pub, err := keypair.Generate()
	if err != nil {
		return storage.Community{}, err
	}
	return s.store.CreateCommunity(ctx, storage.Community{
		Name:          n.Name,
		Title:         strings.TrimSpace(n.Title),
		Summary:       strings.TrimSpace(n.Summary),
		Rules:         strings.TrimSpace(n.Rules),
		JoinMode:      n.JoinMode,
		PostingPolicy: PostMembers,
		Discoverable:  true,
		BoostReplies:  true,
		PrivateKeyPEM: priv,
		PublicKeyPEM:  pub,
		CreatedAt:     s.now(),
	})
}

// Community returns the community called name, or ErrNotFound.
func (s *Service) Community(ctx context.Context, name string) (storage.Community, error) {
	return s.store.CommunityByName(ctx, name)
}

// CommunityVersion returns the version of the community called name, which
// tells whether what was rendered from it is still current, or ErrNotFound.
func (s *Service) CommunityVersion(ctx context.Context, name string) (storage.CommunityVersion, error) {
	return s.store.CommunityVersionByName(ctx, name)
}

// Communities lists every community.
func (s *Service) Communities(ctx context.Context) ([]storage.Community, error) {
	return s.store.Communities(ctx)
}

// Instance returns the instance's own key pair, making it on first use.
func (s *Service) Instance(ctx context.Context) (storage.Instance, error) {
	in, err := s.store.Instance(ctx)
	if err == nil {
		return in, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return storage.Instance{}, err
	}
	priv, pub, err := keypair.Generate()
	if err != nil {
		return storage.Instance{}, err
	}
	return s.store.EnsureInstance(ctx, storage.Instance{PrivateKeyPEM: priv, PublicKeyPEM: pub, CreatedAt: s.now()})
}

// Usage is what NodeInfo reports about this instance.
type Usage struct {
	Communities int
	Posts       int
}

// Usage counts what this instance hosts.
func (s *Service) Usage(ctx context.Context) (Usage, error) {
	n, err := s.store.CountCommunities(ctx)
	if err != nil {
		return Usage{}, err
	}
	posts, err := s.store.CountPosts(ctx)
	if err != nil {
		return Usage{}, err
	}
	return Usage{Communities: n, Posts: posts}, nil
}

// Settings are the rules of a community that admins change.
type Settings struct {
	PostingPolicy string // members, anyone or moderators
	BoostReplies  bool   // boost replies to microblog followers too
}

// UpdateSettings changes a community's posting policy and reply boosting.
func (s *Service) UpdateSettings(ctx context.Context, name string, set Settings) (storage.Community, error) {
	switch set.PostingPolicy {
	case PostMembers, PostAnyone, PostModerators:
	default:
		return storage.Community{}, &InvalidError{Fields: map[string]string{"posting": "must be members, anyone or moderators"}}
	}
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return storage.Community{}, err
	}
	c.PostingPolicy, c.BoostReplies, c.UpdatedAt = set.PostingPolicy, set.BoostReplies, s.now()
	if err := s.store.UpdateCommunitySettings(ctx, c); err != nil {
		return storage.Community{}, err
	}
	return c, s.announceProfile(ctx, c.Name)
}

// announceProfile sends Update{Group} to the followers after a change of
// the community's profile or rules. The change itself was committed just
// before: if the process dies in between, peers see it on their next fetch.
func (s *Service) announceProfile(ctx context.Context, name string) error {
	if s.render == nil {
		return nil // a Service built without federation sends nothing
	}
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		a, err := s.render.UpdateGroup(c)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, a, toFollowers)
	})
}
