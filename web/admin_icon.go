package web

import (
	"errors"
	"net/http"

	"github.com/coppice-dev/coppice/internal/community"
)

// saveIcon uploads a community's icon (multipart field "icon") through
// internal/media, which refuses anything that is not really an image;
// moderators of the community and admins.
func (s *Site) saveIcon(w http.ResponseWriter, r *http.Request, cr *consoleReq) error {
	c, err := s.communityFor(r, cr, community.CanModerate)
	if err != nil {
		return err
	}
	f := communityForm{Title: c.Title, Summary: c.Summary, Rules: c.Rules, Join: c.JoinMode, Posting: c.PostingPolicy, BoostReplies: c.BoostReplies}
	if s.media == nil {
		f.Errors = map[string]string{"icon": "uploads are turned off on this instance"}
		return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	file, header, err := r.FormFile("icon")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		f.Errors = map[string]string{"icon": "choose an image"}
		return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	defer file.Close()
	mf, err := s.media.Save(r.Context(), file, header.Filename)
	if msg, ok := uploadProblem(err); ok {
		f.Errors = map[string]string{"icon": msg}
		return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	if err := s.community.SetIcon(r.Context(), c.Name, mf.Hash, mf.Ext); err != nil {
		if f.Errors = fieldErrors(err); f.Errors != nil {
			return s.renderCommunity(w, r, cr, c, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	s.record(r, cr, "community icon", c.Name, "", mf.Hash+mf.Ext)
	return done(w, r, communityPath(c.Name, ""), "saved")
}
