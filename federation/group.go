package federation

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// groupToAS builds the Group actor of community c.
func groupToAS(c storage.Community, iris IRIs) vocab.ActivityStreamsGroup {
	g := streams.NewActivityStreamsGroup()
	actor := iris.Community(c.Name)
	col := func(which string) *url.URL { return iris.CommunityCollection(c.Name, which) }

	id := streams.NewJSONLDIdProperty()
	id.Set(actor)
	g.SetJSONLDId(id)

	pu := streams.NewActivityStreamsPreferredUsernameProperty()
	pu.SetXMLSchemaString(c.Name)
	g.SetActivityStreamsPreferredUsername(pu)

	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(c.Title)
	g.SetActivityStreamsName(name)

	if c.Summary != "" || c.Rules != "" {
		// Lemmy and Mastodon show summary as the community's description;
		// the rules follow the domain there, as on Lemmy's sidebar.
		text := summaryHTML(c.Summary)
		if c.Rules != "" {
			text += "<p><strong>Rules</strong></p>" + summaryHTML(c.Rules)
		}
		sum := streams.NewActivityStreamsSummaryProperty()
		sum.AppendXMLSchemaString(text)
		g.SetActivityStreamsSummary(sum)
	}

	u := streams.NewActivityStreamsUrlProperty()
	u.AppendIRI(actor)
	g.SetActivityStreamsUrl(u)

	if mt := community.IconType(c.IconExt); c.IconHash != "" && mt != "" {
		img := streams.NewActivityStreamsImage()
		iu := streams.NewActivityStreamsUrlProperty()
		iu.AppendIRI(iris.MediaURL(c.IconHash, c.IconExt))
		img.SetActivityStreamsUrl(iu)
		mtp := streams.NewActivityStreamsMediaTypeProperty()
		mtp.Set(mt)
		img.SetActivityStreamsMediaType(mtp)
		icon := streams.NewActivityStreamsIconProperty()
		icon.AppendActivityStreamsImage(img)
		g.SetActivityStreamsIcon(icon)
	}

	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(c.CreatedAt)
	g.SetActivityStreamsPublished(pub)

	inbox := streams.NewActivityStreamsInboxProperty()
	inbox.SetIRI(col("inbox"))
	g.SetActivityStreamsInbox(inbox)

	outbox := streams.NewActivityStreamsOutboxProperty()
	outbox.SetIRI(col("outbox"))
	g.SetActivityStreamsOutbox(outbox)

	followers := streams.NewActivityStreamsFollowersProperty()
	followers.SetIRI(col("followers"))
	g.SetActivityStreamsFollowers(followers)

	// The communities it follows: its related communities.
	following := streams.NewActivityStreamsFollowingProperty()
	following.SetIRI(col("following"))
	g.SetActivityStreamsFollowing(following)

	featured := streams.NewTootFeaturedProperty()
	featured.SetIRI(col("featured"))
	g.SetTootFeatured(featured)

	// Lemmy: attributedTo of a Group is its moderators collection.
	attr := streams.NewActivityStreamsAttributedToProperty()
	attr.AppendIRI(col("moderators"))
	g.SetActivityStreamsAttributedTo(attr)

	disc := streams.NewTootDiscoverableProperty()
	disc.Set(c.Discoverable)
	g.SetTootDiscoverable(disc)

	g.SetW3IDSecurityV1PublicKey(publicKeyProperty(iris.CommunityKey(c.Name), actor, c.PublicKeyPEM))

	setExt(g, termEndpoints, map[string]any{termSharedInbox: iris.SharedInbox().String()})
	setExt(g, termManuallyApproves, c.JoinMode != community.JoinOpen)
	setExt(g, termPostingRestrict, c.PostingPolicy == community.PostModerators)
	setExt(g, termMembers, col("members").String())
	setExt(g, termDiscussions, col("discussions").String())
	setExt(g, termResources, col("resources").String())
	setExt(g, termWiki, col("wiki").String())
	setExt(g, termEvents, col("events").String())
	setExt(g, termJoinMode, mobilizonJoinMode(c.JoinMode))
	return g
}

// mobilizonJoinMode maps our join modes onto Mobilizon's joinMode values.
func mobilizonJoinMode(mode string) string {
	switch mode {
	case community.JoinOpen:
		return "free"
	case community.JoinInvite:
		return "invite"
	default:
		return "restricted"
	}
}

func publicKeyProperty(keyID, owner *url.URL, pem string) vocab.W3IDSecurityV1PublicKeyProperty {
	k := streams.NewW3IDSecurityV1PublicKey()
	id := streams.NewJSONLDIdProperty()
	id.Set(keyID)
	k.SetJSONLDId(id)
	o := streams.NewW3IDSecurityV1OwnerProperty()
	o.SetIRI(owner)
	k.SetW3IDSecurityV1Owner(o)
	p := streams.NewW3IDSecurityV1PublicKeyPemProperty()
	p.Set(pem)
	k.SetW3IDSecurityV1PublicKeyPem(p)
	prop := streams.NewW3IDSecurityV1PublicKeyProperty()
	prop.AppendW3IDSecurityV1PublicKey(k)
	return prop
}

// Group serves the Group actor of /c/{name} as ActivityStreams JSON, from
// h.documents while the community is unchanged.
func (h *Handler) Group() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		name := pathVar(r, "name")
		v, err := h.community.CommunityVersion(r.Context(), name)
		if err != nil {
			return err
		}
		if h.authFetch {
			_, err := h.fetchSigner(r)
			var rej *RejectError
			if errors.As(err, &rej) && rej.Status == http.StatusUnauthorized && !hasSignature(r) {
				c, err := h.community.Community(r.Context(), name)
				if err != nil {
					return err
				}
				return h.keyDocument(w, r, c) // the key document stays open
			}
			if err != nil {
				return err
			}
		}
		body, err := h.documents.body(documentKey{community: name, name: "actor"}, actorStamp(v), func() ([]byte, error) {
			c, err := h.community.Community(r.Context(), name)
			if err != nil {
				return nil, err
			}
			return Marshal(groupToAS(c, h.iris))
		})
		if err != nil {
			return err
		}
		return writeDocument(w, r, body)
	})
}

// UpdateGroup renders Update{Group}: the community's profile changed
// (title, summary, join mode, posting policy), so followers' copies follow.
func (r *Renderer) UpdateGroup(c storage.Community) (storage.OutboxActivity, error) {
	u := streams.NewActivityStreamsUpdate()
	iri := r.address(u, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendActivityStreamsGroup(groupToAS(c, r.iris))
	u.SetActivityStreamsObject(op)
	return r.finish(u, iri, c)
}
