package community

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/storage"
)

// Resource kinds of the shared repertoire.
var resourceKinds = []string{"link", "document", "story", "tool", "method"}

// IsResourceKind reports whether kind is one of link, document, story,
// tool, method.
func IsResourceKind(kind string) bool {
	for _, k := range resourceKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// NewResource is the input of AddResource.
type NewResource struct {
	Kind        string
	Title       string
	Description string
	Tags        string
	URL         string
	File        storage.Resource // only the File* fields are read
	AuthorIRI   string
	By          string // who adds it: an admin name or an actor IRI
}

// Validate returns a message per bad field, or nil.
func (n NewResource) Validate() map[string]string {
	errs := map[string]string{}
	if !IsResourceKind(n.Kind) {
		errs["kind"] = "must be link, document, story, tool or method"
	}
	if strings.TrimSpace(n.Title) == "" {
		errs["title"] = "required"
	} else if utf8.RuneCountInString(n.Title) > MaxTitle {
		errs["title"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	if utf8.RuneCountInString(n.Description) > MaxSummary {
		errs["description"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	if n.URL != "" {
		u, err := url.Parse(n.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["url"] = "must be an http(s) URL"
		}
	}
	if n.URL == "" && n.File.FileHash == "" && n.Kind != "story" && n.Kind != "method" {
		errs["url"] = "give a URL or a file"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// normalTags lower-cases tags, drops # and duplicates, and joins them with
// spaces.
func normalTags(s string) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '#' }) {
		t = strings.ToLower(t)
		if !seen[t] && len(out) < 20 {
			seen[t] = true
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}

// AddResource adds a resource on behalf of a moderator or broker: it is
// published at once and announced.
func (s *Service) AddResource(ctx context.Context, communityName string, n NewResource) (storage.Resource, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Resource{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.Resource{}, err
	}
	var out storage.Resource
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		r := storage.Resource{
			CommunityID: c.ID, IRI: s.render.NewIRI(c, "resources"), Kind: n.Kind,
			Title: strings.TrimSpace(n.Title), Description: strings.TrimSpace(n.Description), Tags: normalTags(n.Tags), URL: n.URL,
			FileHash: n.File.FileHash, FileExt: n.File.FileExt, FileName: n.File.FileName, FileType: n.File.FileType, FileSize: n.File.FileSize,
			AuthorIRI: n.AuthorIRI, ProposedBy: n.By, PublishedBy: n.By, State: storage.ResourcePublished,
			CreatedAt: s.now(), PublishedAt: s.now(),
		}
		var err error
		out, err = tx.CreateResource(ctx, r)
		if err != nil {
			return err
		}
		return s.publishResource(ctx, tx, c, out)
	})
	return out, err
}

// Propose records a resource a member proposed from their own server (a
// post with a link and #resource, or Mobilizon's Add to the resources
// collection). It waits for a moderator or broker and is not announced.
func (s *Service) Propose(ctx context.Context, communityName string, in Incoming, n Note, link string) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	if err := s.mayPost(ctx, c, in.Actor.IRI); err != nil {
		return err
	}
	title := s.sanitize.Text(n.Name, MaxTitleRunes)
	if title == "" {
		title = s.sanitize.FirstLine(n.Content, MaxTitleRunes, c.Name)
	}
	if title == "" {
		title = link
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err
		}
		r, err := tx.CreateResource(ctx, storage.Resource{
			CommunityID: c.ID, IRI: s.render.NewIRI(c, "resources"), Kind: "link", Title: title,
			Description: s.sanitize.Text(n.Content, MaxSummary), URL: link, AuthorIRI: n.AuthorIRI,
			ProposedBy: in.Actor.IRI, SourceIRI: n.IRI, State: storage.ResourceProposed, CreatedAt: s.now(),
		})
		if errors.Is(err, storage.ErrConflict) {
			return nil // proposed before
		}
		if err != nil {
			return err
		}
		return tx.RecordContribution(ctx, c.ID, in.Actor.IRI, storage.ContribResourceProposed, r.IRI, s.now())
	})
}

// ProposeResource records a resource a member signed in on the site
// proposes (a link or an uploaded file): it waits for a moderator or
// broker, as a proposal from the fediverse does, credited to the member.
func (s *Service) ProposeResource(ctx context.Context, p Principal, communityName string, n NewResource) (storage.Resource, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Resource{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.Resource{}, err
	}
	if p.Actor == "" {
		return storage.Resource{}, refused("proposals come from members; the console and the command line add resources")
	}
	// The rule of a proposal from the fediverse: the posting policy, bans
	// included, so a site proposal is never easier or harder than a post.
	if err := s.mayPost(ctx, c, p.Actor); err != nil {
		return storage.Resource{}, err
	}
	var out storage.Resource
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		var err error
		out, err = tx.CreateResource(ctx, storage.Resource{
			CommunityID: c.ID, IRI: s.render.NewIRI(c, "resources"), Kind: n.Kind,
			Title: strings.TrimSpace(n.Title), Description: strings.TrimSpace(n.Description), Tags: normalTags(n.Tags), URL: n.URL,
			FileHash: n.File.FileHash, FileExt: n.File.FileExt, FileName: n.File.FileName, FileType: n.File.FileType, FileSize: n.File.FileSize,
			AuthorIRI: p.Actor, ProposedBy: p.Actor, State: storage.ResourceProposed, CreatedAt: s.now(),
		})
		if err != nil {
			return err
		}
		return tx.RecordContribution(ctx, c.ID, p.Actor, storage.ContribResourceProposed, out.IRI, s.now())
	})
	return out, err
}

// SetResourceState publishes (announcing it) or archives (removing it from
// the collection) a resource; by names who did it.
func (s *Service) SetResourceState(ctx context.Context, iri, state, by string) (storage.Resource, error) {
	r, err := s.store.ResourceByIRI(ctx, iri)
	if err != nil {
		return storage.Resource{}, err
	}
	c, err := s.communityByID(ctx, r.CommunityID)
	if err != nil {
		return storage.Resource{}, err
	}
	if r.State == state {
		return r, nil
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		prev := r.State
		r.State, r.UpdatedAt = state, s.now()
		switch state {
		case storage.ResourcePublished:
			r.PublishedBy, r.PublishedAt = by, s.now()
			if err := tx.SetResourceState(ctx, r); err != nil {
				return err
			}
			return s.publishResource(ctx, tx, c, r)
		case storage.ResourceArchived:
			if err := tx.SetResourceState(ctx, r); err != nil {
				return err
			}
			if err := tx.UnindexDocument(ctx, storage.SearchResource, r.ID); err != nil {
				return err
			}
			if prev != storage.ResourcePublished {
				return nil
			}
			a, err := s.render.ResourceRemoved(c, r)
			if err != nil {
				return err
			}
			a.Listed = true
			return s.deliver(ctx, tx, c, a, toFollowers)
		}
		return &InvalidError{Fields: map[string]string{"state": "must be published or archived"}}
	})
	return r, err
}

func (s *Service) publishResource(ctx context.Context, tx *storage.Tx, c storage.Community, r storage.Resource) error {
	// The member who proposed it gets the credit for a published resource.
	if strings.HasPrefix(r.ProposedBy, "http") {
		if err := tx.RecordContribution(ctx, c.ID, r.ProposedBy, storage.ContribResourcePublished, r.IRI, s.now()); err != nil {
			return err
		}
	}
	if err := tx.IndexDocument(ctx, storage.SearchResource, r.ID, c.ID, r.Title, r.Description+" "+r.Tags+" "+r.Kind); err != nil {
		return err
	}
	acts, err := s.render.ResourcePublished(c, r)
	if err != nil {
		return err
	}
	for _, a := range acts {
		a.Listed = true
		if err := s.deliver(ctx, tx, c, a, toFollowers); err != nil {
			return err
		}
	}
	return nil
}

// Resources lists a community's resources in one state and their total.
func (s *Service) Resources(ctx context.Context, c storage.Community, state string, offset, limit int) (int, []storage.Resource, error) {
	total, err := s.store.CountResources(ctx, c.ID, state)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	rs, err := s.store.Resources(ctx, c.ID, state, offset, limit)
	return total, rs, err
}

// Resource returns a resource by IRI with its community.
func (s *Service) Resource(ctx context.Context, iri string) (storage.Resource, storage.Community, error) {
	r, err := s.store.ResourceByIRI(ctx, iri)
	if err != nil {
		return storage.Resource{}, storage.Community{}, err
	}
	c, err := s.communityByID(ctx, r.CommunityID)
	return r, c, err
}

// ResourceIRI returns the IRI of a resource by row ID (search results).
func (s *Service) ResourceIRI(ctx context.Context, id int64) (string, error) {
	return s.store.ResourceIRIByID(ctx, id)
}

// PostThread returns the thread of a post by row ID (search results).
func (s *Service) PostThread(ctx context.Context, id int64) (int64, error) {
	return s.store.PostThreadID(ctx, id)
}

// ResourceKinds lists the kinds a resource may have.
func ResourceKinds() []string { return slices.Clone(resourceKinds) }
