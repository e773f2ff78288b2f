package community

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/internal/textdiff"
	"github.com/coppice-dev/coppice/storage"
)

// Bounds of a wiki page.
const (
	MaxWikiBody    = 64 << 10 // bytes of Markdown
	MaxWikiSummary = 300      // runes of an edit summary
)

// Who may edit a community's wiki on its site.
const (
	WikiMembers    = "members"
	WikiModerators = "moderators"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// WikiEdit is a save of a wiki page.
type WikiEdit struct {
	Slug    string // [a-z0-9-], at most 64; derived from the title when empty
	Title   string
	Body    string // Markdown
	Summary string // what changed
	// Base is the revision the editor started from (0 for a new page).
	// Saving over a newer revision is a *WikiConflict.
	Base int
}

// Validate returns a message per bad field, or nil.
func (e *WikiEdit) Validate() map[string]string {
	errs := map[string]string{}
	e.Title = strings.TrimSpace(e.Title)
	if e.Slug == "" {
		e.Slug = Slug(e.Title)
	}
	switch {
	case e.Title == "":
		errs["title"] = "required"
	case utf8.RuneCountInString(e.Title) > MaxTitle:
		errs["title"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	if len(e.Slug) > 64 || !slugRE.MatchString(e.Slug) {
		errs["slug"] = "use lower-case letters, digits and single dashes, at most 64"
	}
	switch {
	case strings.TrimSpace(e.Body) == "":
		errs["body"] = "required"
	case len(e.Body) > MaxWikiBody:
		errs["body"] = fmt.Sprintf("at most %d KiB", MaxWikiBody>>10)
	case !utf8.ValidString(e.Body):
		errs["body"] = "must be UTF-8 text"
	}
	if utf8.RuneCountInString(e.Summary) > MaxWikiSummary {
		errs["summary"] = fmt.Sprintf("at most %d characters", MaxWikiSummary)
	}
	if e.Base < 0 {
		errs["base"] = "must not be negative"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Slug makes a page slug from a title: lower-case ASCII letters and
// digits, other runs of characters as one dash.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
		if b.Len() >= 64 {
			break
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

// WikiConflict is a save over a newer revision than the one edited: the
// editor gets the current revision and the difference to its own text.
type WikiConflict struct {
	Current storage.WikiRevision
	Diff    []textdiff.Line // from the current revision to the editor's text
}

func (e *WikiConflict) Error() string {
	return fmt.Sprintf("the page changed since you began: it is at revision %d", e.Current.Number)
}

// WikiView is a page with the revision shown.
type WikiView struct {
	Community storage.Community
	Page      storage.WikiPage
	Revision  storage.WikiRevision
}

// EditWiki saves a wiki page as principal p: a member signed in on the
// site (under the community's wiki policy: members or moderators), a
// console steward, or the operator. Every save is a revision; the first is
// sent to followers as Create{Article} from the community, later ones as
// Update{Article}, with the member credited as contributor.
func (s *Service) EditWiki(ctx context.Context, p Principal, communityName string, e WikiEdit) (storage.WikiPage, error) {
	if errs := e.Validate(); errs != nil {
		return storage.WikiPage{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.WikiPage{}, err
	}
	html, err := s.markdown.HTML(e.Body)
	if err != nil {
		return storage.WikiPage{}, err
	}
	html = s.sanitize.HTML(html)
	var saved storage.WikiPage
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if err := s.mayEditWiki(ctx, tx, c, p); err != nil {
			return err
		}
		page, err := tx.WikiPage(ctx, c.ID, e.Slug)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			page = storage.WikiPage{CommunityID: c.ID, Slug: e.Slug, IRI: s.render.WikiIRI(c, e.Slug)}
		case err != nil:
			return err
		}
		if page.Revision != e.Base {
			return s.wikiConflict(ctx, page, e.Body)
		}
		saved, err = tx.SaveWikiRevision(ctx, page, e.Base, storage.WikiRevision{
			Title: e.Title, Body: e.Body, HTML: html, Summary: strings.TrimSpace(e.Summary), Author: p.Name(), CreatedAt: s.now(),
		})
		if errors.Is(err, storage.ErrConflict) {
			return s.wikiConflict(ctx, page, e.Body)
		}
		if err != nil {
			return err
		}
		return s.publishWiki(ctx, tx, c, saved, p, "edit wiki page", e.Summary)
	})
	return saved, err
}

// RevertWiki makes an earlier revision of a page current again, as a new
// revision; only moderators (and the operator) may.
func (s *Service) RevertWiki(ctx context.Context, p Principal, communityName, slug string, number int) (storage.WikiPage, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.WikiPage{}, err
	}
	var saved storage.WikiPage
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		ok, err := s.may(ctx, tx, c, p, CanModerate)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: only moderators may revert wiki pages", ErrForbidden)
		}
		page, err := tx.WikiPage(ctx, c.ID, slug)
		if err != nil {
			return err
		}
		old, err := s.store.WikiRevision(ctx, page.ID, number)
		if err != nil {
			return err
		}
		if number == page.Revision {
			return &InvalidError{Fields: map[string]string{"revision": "this is the current revision"}}
		}
		saved, err = tx.SaveWikiRevision(ctx, page, page.Revision, storage.WikiRevision{
			Title: old.Title, Body: old.Body, HTML: old.HTML, Summary: fmt.Sprintf("Revert to revision %d", number), Author: p.Name(), CreatedAt: s.now(),
		})
		if err != nil {
			return err
		}
		return s.publishWiki(ctx, tx, c, saved, p, "revert wiki page", fmt.Sprintf("to revision %d", number))
	})
	return saved, err
}

// publishWiki indexes the saved page, sends it to followers and records
// the principal's act, in tx.
func (s *Service) publishWiki(ctx context.Context, tx *storage.Tx, c storage.Community, page storage.WikiPage, p Principal, action, detail string) error {
	rev, err := tx.WikiRevisionTx(ctx, page.ID, page.Revision)
	if err != nil {
		return err
	}
	if err := tx.IndexDocument(ctx, storage.SearchWiki, page.ID, c.ID, page.Title, s.sanitize.Text(rev.HTML, 0)); err != nil {
		return err
	}
	verb := "Update"
	if page.Revision == 1 {
		verb = "Create"
	}
	var contributor string
	if p.Actor != "" {
		contributor = p.Actor
	}
	a, err := s.render.WikiArticle(c, page, rev, verb, contributor)
	if err != nil {
		return err
	}
	a.Listed = true
	if err := s.deliver(ctx, tx, c, a, toFollowers); err != nil {
		return err
	}
	return s.audit(ctx, tx, c, p, action, page.IRI, detail)
}

func (s *Service) mayEditWiki(ctx context.Context, tx *storage.Tx, c storage.Community, p Principal) error {
	what := CanCurate // console stewards; the operator may always
	if p.Actor != "" {
		policy, err := s.store.WikiPolicy(ctx, c.ID)
		if err != nil {
			return err
		}
		what = CanView // members in good standing
		if policy == WikiModerators {
			what = CanModerate
		}
	}
	ok, err := s.may(ctx, tx, c, p, what)
	if err != nil {
		return err
	}
	if !ok {
		if p.Actor != "" {
			return refused("only %s of %s may edit its wiki", map[Capability]string{CanView: "members", CanModerate: "moderators"}[what], c.Name)
		}
		return ErrForbidden
	}
	return nil
}

func (s *Service) wikiConflict(ctx context.Context, page storage.WikiPage, mine string) error {
	cur, err := s.store.WikiRevision(ctx, page.ID, page.Revision)
	if err != nil {
		return err
	}
	return &WikiConflict{Current: cur, Diff: textdiff.Lines(cur.Body, mine)}
}

// WikiPage returns a page at its current revision, or at revision number
// when it is not 0.
func (s *Service) WikiPage(ctx context.Context, communityName, slug string, number int) (WikiView, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return WikiView{}, err
	}
	page, err := s.store.WikiPage(ctx, c.ID, slug)
	if err != nil {
		return WikiView{}, err
	}
	if number == 0 {
		number = page.Revision
	}
	rev, err := s.store.WikiRevision(ctx, page.ID, number)
	if err != nil {
		return WikiView{}, err
	}
	return WikiView{Community: c, Page: page, Revision: rev}, nil
}

// WikiPages lists a community's pages, most recently changed first.
func (s *Service) WikiPages(ctx context.Context, c storage.Community, offset, limit int) (int, []storage.WikiPage, error) {
	n, err := s.store.CountWikiPages(ctx, c.ID)
	if err != nil {
		return 0, nil, err
	}
	ps, err := s.store.WikiPages(ctx, c.ID, offset, limit)
	return n, ps, err
}

// WikiHistory returns a page and its revisions, newest first.
func (s *Service) WikiHistory(ctx context.Context, communityName, slug string) (WikiView, []storage.WikiRevision, error) {
	v, err := s.WikiPage(ctx, communityName, slug, 0)
	if err != nil {
		return WikiView{}, nil, err
	}
	revs, err := s.store.WikiRevisions(ctx, v.Page.ID)
	return v, revs, err
}

// WikiDiff returns the line difference between two revisions of a page.
func (s *Service) WikiDiff(ctx context.Context, communityName, slug string, from, to int) (WikiView, []textdiff.Line, error) {
	v, err := s.WikiPage(ctx, communityName, slug, to)
	if err != nil {
		return WikiView{}, nil, err
	}
	old, err := s.store.WikiRevision(ctx, v.Page.ID, from)
	if err != nil {
		return WikiView{}, nil, err
	}
	return v, textdiff.Lines(old.Body, v.Revision.Body), nil
}

// SetWikiPolicy sets who may edit a community's wiki on its site.
func (s *Service) SetWikiPolicy(ctx context.Context, p Principal, communityName, policy string) error {
	if policy != WikiMembers && policy != WikiModerators {
		return &InvalidError{Fields: map[string]string{"wiki": "want members or moderators"}}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		ok, err := s.may(ctx, tx, c, p, CanModerate)
		if err != nil {
			return err
		}
		if !ok {
			return ErrForbidden
		}
		if err := tx.SetWikiPolicy(ctx, c.ID, policy); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, p, "set wiki policy", c.Name, policy)
	})
}

// WikiPageIRI returns the id of a page by row ID (search results).
func (s *Service) WikiPageIRI(ctx context.Context, id int64) (string, error) {
	return s.store.WikiPageIRIByID(ctx, id)
}

// WikiPolicy returns who may edit a community's wiki on its site.
func (s *Service) WikiPolicy(ctx context.Context, c storage.Community) (string, error) {
	return s.store.WikiPolicy(ctx, c.ID)
}
