package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Community is one community of practice.
type Community struct {
	ID            int64
	Name          string
	Title         string
	Summary       string
	Rules         string // plain text, paragraphs separated by blank lines
	IconHash      string // the icon's file in the media store, "" for none
	IconExt       string
	JoinMode      string // open, approval or invite
	PostingPolicy string // members, anyone or moderators
	Discoverable  bool
	BoostReplies  bool // replies are boosted to microblog followers too
	PrivateKeyPEM string
	PublicKeyPEM  string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// ArchivedAt is when the community was archived (closed to new posts
	// and members, kept readable); zero when it is not.
	ArchivedAt time.Time
}

const communityColumns = `id, name, title, summary, rules, icon_hash, icon_ext, join_mode, posting_policy, discoverable, boost_replies,
	private_key_pem, public_key_pem, created_at, updated_at, archived_at`

type scanner interface {
	Scan(dest ...any) error
}

func scanCommunity(row scanner) (Community, error) {
	var c Community
	var created, updated, archived int64
	err := row.Scan(&c.ID, &c.Name, &c.Title, &c.Summary, &c.Rules, &c.IconHash, &c.IconExt, &c.JoinMode, &c.PostingPolicy, &c.Discoverable, &c.BoostReplies,
		&c.PrivateKeyPEM, &c.PublicKeyPEM, &created, &updated, &archived)
	c.CreatedAt, c.UpdatedAt, c.ArchivedAt = fromDB(created), fromDB(updated), fromDB(archived)
	return c, err
}

const createCommunityQuery = `
	INSERT INTO communities (name, title, summary, rules, join_mode, posting_policy, discoverable, boost_replies,
		private_key_pem, public_key_pem, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING ` + communityColumns

// CreateCommunity inserts c and returns it with its row ID. A community with
// the same name gives ErrConflict.
func (s *Store) CreateCommunity(ctx context.Context, c Community) (Community, error) {
	out, err := scanCommunity(s.write.QueryRowContext(ctx, createCommunityQuery,
		c.Name, c.Title, c.Summary, c.Rules, c.JoinMode, c.PostingPolicy, c.Discoverable, c.BoostReplies,
		c.PrivateKeyPEM, c.PublicKeyPEM, toDB(c.CreatedAt), toDB(c.CreatedAt)))
	if err != nil {
		return Community{}, fmt.Errorf("create community %s: %w", c.Name, mapError(err))
	}
	return out, nil
}

const communityByNameQuery = `SELECT ` + communityColumns + ` FROM communities WHERE name = ?`

// CommunityByName returns the community with the given name, or ErrNotFound.
func (s *Store) CommunityByName(ctx context.Context, name string) (Community, error) {
	c, err := scanCommunity(s.readRow(ctx, communityByNameQuery, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Community{}, ErrNotFound
	}
	if err != nil {
		return Community{}, fmt.Errorf("community %s: %w", name, err)
	}
	return c, nil
}

// CommunityVersion tells whether what was rendered from a community (its
// Group actor, its outbox) is still current. Version changes with every
// update of the community's row and with every change that takes an
// activity out of its outbox, in the transaction of the change (migration
// 0022); NewestListed, the id of the newest activity the outbox lists,
// with every activity added to it. ID and CreatedAt tell the community
// from one that took its name.
//
// On SQLite, which commits one transaction at a time, an outbox that
// changed always has a new version or a new newest id. On PostgreSQL two
// processes may commit activities out of the order of their ids, and one
// committed last with the smaller id leaves NewestListed as it was.
type CommunityVersion struct {
	ID           int64
	CreatedAt    time.Time
	Version      int64
	NewestListed int64
}

const communityVersionByNameQuery = `
	SELECT c.id, c.created_at, c.version, COALESCE((SELECT MAX(o.id) FROM outbox_activities o
		WHERE o.community_id = c.id AND o.listed = 1 AND o.withdrawn_at = 0), 0)
	FROM communities c WHERE c.name = ?`

// CommunityVersionByName returns the version of the community with the
// given name, or ErrNotFound. It reads three numbers of the row and one
// entry of the outbox's index: the read path asks for them on every GET
// it answers from what it rendered before.
func (s *Store) CommunityVersionByName(ctx context.Context, name string) (CommunityVersion, error) {
	var v CommunityVersion
	var created int64
	err := s.readRow(ctx, communityVersionByNameQuery, name).Scan(&v.ID, &created, &v.Version, &v.NewestListed)
	if errors.Is(err, sql.ErrNoRows) {
		return CommunityVersion{}, ErrNotFound
	}
	if err != nil {
		return CommunityVersion{}, fmt.Errorf("community %s: %w", name, err)
	}
	v.CreatedAt = fromDB(created)
	return v, nil
}

const communitiesQuery = `SELECT ` + communityColumns + ` FROM communities ORDER BY name`

// Communities lists every community by name.
func (s *Store) Communities(ctx context.Context) ([]Community, error) {
	rows, err := s.read.QueryContext(ctx, communitiesQuery)
	if err != nil {
		return nil, fmt.Errorf("communities: %w", err)
	}
	defer rows.Close()
	var out []Community
	for rows.Next() {
		c, err := scanCommunity(rows)
		if err != nil {
			return nil, fmt.Errorf("communities: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const countCommunitiesQuery = `SELECT COUNT(*) FROM communities`

// CountCommunities returns the number of communities.
func (s *Store) CountCommunities(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, countCommunitiesQuery).Scan(&n); err != nil {
		return 0, fmt.Errorf("count communities: %w", err)
	}
	return n, nil
}

const updateCommunitySettingsQuery = `UPDATE communities SET posting_policy = ?, boost_replies = ?, updated_at = ? WHERE id = ?`

// UpdateCommunitySettings changes the posting policy and reply boosting.
func (s *Store) UpdateCommunitySettings(ctx context.Context, c Community) error {
	res, err := s.write.ExecContext(ctx, updateCommunitySettingsQuery, c.PostingPolicy, c.BoostReplies, toDB(c.UpdatedAt), c.ID)
	if err != nil {
		return fmt.Errorf("update community %s: %w", c.Name, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetCommunityIcon sets (or, with an empty hash, clears) a community's icon.
func (s *Store) SetCommunityIcon(ctx context.Context, communityID int64, hash, ext string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE communities SET icon_hash = ?, icon_ext = ?, updated_at = ? WHERE id = ?`, hash, ext, toDB(at), communityID)
	if err != nil {
		return fmt.Errorf("set icon of community %d: %w", communityID, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
