package storage

import (
	"context"
	"fmt"
)

// SeedPost is one post for Seed, with what the inbox would have written
// around it: the activity that carried it, its search text and the
// announces the community sent.
type SeedPost struct {
	Post        Post // ThreadID and CommunityID are taken from the thread
	ActivityIRI string
	ActivityRaw []byte
	SearchText  string
	Announces   []OutboxActivity
}

// SeedThread is a thread and its posts, the root first.
type SeedThread struct {
	Thread Thread
	Posts  []SeedPost
}

const seedInboxQuery = `
	INSERT INTO inbox_activities (iri, type, actor_iri, community_id, raw, context_id, received_at)
	VALUES (?, 'Create', ?, ?, ?, ?, ?)`

const seedContributionQuery = `
	INSERT INTO contributions (community_id, actor_iri, kind, ref, created_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (community_id, actor_iri, kind, ref) DO NOTHING`

const seedPostQuery = `
	INSERT INTO posts (iri, thread_id, community_id, type, author_iri, in_reply_to, name, content, summary, url, published, raw)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING id`

const seedThreadQuery = `
	INSERT INTO threads (community_id, root_iri, title, author_iri, created_at, last_activity_at, replies)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	RETURNING id`

const seedOutboxQuery = `
	INSERT INTO outbox_activities (iri, community_id, type, key_id, body, context_id, embed_id, embed_at, listed, created_at, object_iri, boost)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const seedSearchPostgresQuery = `
	INSERT INTO search_index (kind, ref, community_id, title, body, document)
	VALUES (?, ?, ?, ?, ?, setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B'))`

// Seed writes many threads with their posts in one transaction, as if they
// had arrived through the inbox: each thread, each post with its inbox
// activity, contribution, search row and announces. It applies no rules and
// queues no deliveries; it exists to build large databases for load tests
// quickly (cmd/coppice-load), with each statement prepared once.
func (s *Store) Seed(ctx context.Context, threads []SeedThread) error {
	return s.InTx(ctx, func(tx *Tx) error {
		queries := []string{seedThreadQuery, seedPostQuery, seedInboxQuery, seedContributionQuery, seedOutboxQuery, insertSearchQuery}
		if tx.tx.pg {
			queries[5] = seedSearchPostgresQuery
		}
		var stmts [6]*sqlStmt
		for i, q := range queries {
			st, err := tx.tx.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("seed: prepare: %w", err)
			}
			defer st.Close()
			stmts[i] = st
		}
		threadStmt, postStmt, inboxStmt, contribStmt, outboxStmt, searchStmt := stmts[0], stmts[1], stmts[2], stmts[3], stmts[4], stmts[5]
		for _, th := range threads {
			t := th.Thread
			var threadID int64
			if err := threadStmt.QueryRowContext(ctx, t.CommunityID, t.RootIRI, t.Title, t.AuthorIRI, toDB(t.CreatedAt), toDB(t.LastActivityAt), len(th.Posts)-1).Scan(&threadID); err != nil {
				return fmt.Errorf("seed thread %s: %w", t.RootIRI, mapError(err))
			}
			for i, sp := range th.Posts {
				p := sp.Post
				var postID int64
				if err := postStmt.QueryRowContext(ctx, p.IRI, threadID, t.CommunityID, p.Type, p.AuthorIRI, p.InReplyTo, p.Name, p.Content,
					p.Summary, p.URL, toDB(p.Published), string(p.Raw)).Scan(&postID); err != nil {
					return fmt.Errorf("seed post %s: %w", p.IRI, mapError(err))
				}
				raw, err := tx.packBody(ctx, sp.ActivityRaw)
				if err != nil {
					return fmt.Errorf("seed activity %s: %w", sp.ActivityIRI, err)
				}
				if _, err := inboxStmt.ExecContext(ctx, sp.ActivityIRI, p.AuthorIRI, t.CommunityID, raw.body, raw.contextID, toDB(p.Published)); err != nil {
					return fmt.Errorf("seed activity %s: %w", sp.ActivityIRI, mapError(err))
				}
				kind := ContribReply
				if i == 0 {
					kind = ContribThread
				}
				if _, err := contribStmt.ExecContext(ctx, t.CommunityID, p.AuthorIRI, kind, p.IRI, toDB(p.Published)); err != nil {
					return fmt.Errorf("seed contribution %s: %w", p.IRI, mapError(err))
				}
				// A new post has no search row yet: insert without
				// IndexDocument's delete.
				if tx.tx.pg {
					_, err = searchStmt.ExecContext(ctx, SearchPost, postID, t.CommunityID, t.Title, sp.SearchText, foldAccents(t.Title), foldAccents(sp.SearchText))
				} else {
					var rowID int64
					if rowID, err = searchRowID(SearchPost, postID); err != nil {
						return err
					}
					_, err = searchStmt.ExecContext(ctx, rowID, SearchPost, postID, t.CommunityID, t.Title, sp.SearchText)
				}
				if err != nil {
					return fmt.Errorf("seed search row of %s: %w", p.IRI, mapError(err))
				}
				for _, a := range sp.Announces {
					packed, err := tx.packBody(ctx, a.Body)
					if err == nil && !a.Boost {
						err = tx.embed(ctx, &packed, sp.ActivityIRI)
					}
					if err != nil {
						return fmt.Errorf("seed announce %s: %w", a.IRI, err)
					}
					if _, err := outboxStmt.ExecContext(ctx, a.IRI, t.CommunityID, a.Type, a.KeyID, packed.body, packed.contextID, packed.embedID, packed.embedAt,
						a.Listed, toDB(a.CreatedAt), a.ObjectIRI, a.Boost); err != nil {
						return fmt.Errorf("seed announce %s: %w", a.IRI, mapError(err))
					}
				}
			}
		}
		return nil
	})
}

const seedDeliveryQuery = `
	INSERT INTO deliveries (activity_id, inbox, host, attempts, next_attempt_at, queued_at, last_error)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// SeedDeliveries queues the given deliveries (ActivityID, Inbox, Attempts,
// NextAttemptAt, QueuedAt and LastError; the host is taken from Inbox) in
// one transaction, with one prepared statement. Like Seed it exists for
// load tests (cmd/coppice-load restart builds a queue of a million rows
// with it, in batches); the community layer queues through
// EnqueueFollowers and EnqueueDelivery.
func (s *Store) SeedDeliveries(ctx context.Context, ds []Delivery) error {
	return s.InTx(ctx, func(tx *Tx) error {
		st, err := tx.tx.PrepareContext(ctx, seedDeliveryQuery)
		if err != nil {
			return fmt.Errorf("seed deliveries: prepare: %w", err)
		}
		defer st.Close()
		for _, d := range ds {
			if _, err := st.ExecContext(ctx, d.ActivityID, d.Inbox, HostOf(d.Inbox), d.Attempts, toDB(d.NextAttemptAt), toDB(d.QueuedAt), d.LastError); err != nil {
				return fmt.Errorf("seed delivery to %s: %w", d.Inbox, mapError(err))
			}
		}
		return nil
	})
}
