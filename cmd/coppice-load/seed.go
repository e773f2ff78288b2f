package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/federation"

	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// seedConfig is what `coppice-load seed` builds.
type seedConfig struct {
	db           string
	posts        int
	communities  int
	threadLength int
}

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg seedConfig
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file to fill (created when missing)")
	fs.IntVar(&cfg.posts, "posts", 1_000_000, "posts to add")
	fs.IntVar(&cfg.communities, "communities", 1000, "communities to spread them over")
	fs.IntVar(&cfg.threadLength, "thread-length", 10, "posts per thread, the root included")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.posts < 0 || cfg.communities < 1 || cfg.threadLength < 1 {
		return errors.New("seed: --posts must be ≥ 0, --communities and --thread-length ≥ 1")
	}
	return seed(ctx, cfg, stdout)
}

// seed adds cfg.posts posts in cfg.communities new communities, each
// community's posts in one storage.Seed transaction, generated while the
// previous one is written.
func seed(ctx context.Context, cfg seedConfig, stdout io.Writer) error {
	st, err := storage.Open(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer st.Close()
	// One key pair for every seeded community: RSA generation costs
	// ~100 ms, and nobody verifies these communities' signatures.
	priv, pub, err := keypair.Generate()
	if err != nil {
		return err
	}
	run := time.Now().UnixNano()
	start := time.Now()
	batches := make(chan []storage.SeedThread, 2)
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		genErr <- generate(ctx, st, cfg, run, priv, pub, batches)
	}()
	written, report := 0, 100_000
	for b := range batches {
		if err := st.Seed(ctx, b); err != nil {
			for range batches { // let the generator finish
			}
			return err
		}
		for _, th := range b {
			written += len(th.Posts)
		}
		if written >= report {
			report += 100_000
			fmt.Fprintf(stdout, "seeded %d posts (%.0f/s)\n", written, float64(written)/time.Since(start).Seconds())
		}
	}
	if err := <-genErr; err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d posts in %d communities in %s (%.0f posts/s)\n", written, cfg.communities,
		time.Since(start).Round(time.Second), float64(written)/time.Since(start).Seconds())
	return nil
}

// generate creates the communities and sends one batch of threads per
// community.
func generate(ctx context.Context, st *storage.Store, cfg seedConfig, run int64, priv, pub string, out chan<- []storage.SeedThread) error {
	rng := rand.New(rand.NewPCG(uint64(run), 13))
	words := vocabulary(rng, 5000)
	at := time.Now().UTC().Add(-30 * 24 * time.Hour)
	perCommunity := cfg.posts / cfg.communities
	// The announces are rendered as the server renders them, context and
	// all, so a seeded outbox is as large as one that took the posts.
	render := federation.NewRenderer(federation.NewIRIs(&url.URL{Scheme: "https", Host: "coppice.seed.example"}))
	for ci := 0; ci < cfg.communities; ci++ {
		n := perCommunity
		if ci < cfg.posts%cfg.communities {
			n++
		}
		c, err := st.CreateCommunity(ctx, storage.Community{
			Name: fmt.Sprintf("seed%x_%d", run&0xffffff, ci), Title: fmt.Sprintf("Seeded community %d", ci), Summary: "Seeded for load tests",
			JoinMode: "open", PostingPolicy: "members", Discoverable: true, BoostReplies: true,
			PrivateKeyPEM: priv, PublicKeyPEM: pub, CreatedAt: at,
		})
		if err != nil {
			return err
		}
		var batch []storage.SeedThread
		for p := 0; p < n; p += cfg.threadLength {
			th, err := seedThread(rng, words, render, c, run, p, min(cfg.threadLength, n-p), at)
			if err != nil {
				return err
			}
			batch = append(batch, th)
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// seedThread builds one thread of length posts by authors of 20 hosts.
func seedThread(rng *rand.Rand, words []string, render *federation.Renderer, c storage.Community, run int64, first, length int, at time.Time) (storage.SeedThread, error) {
	var th storage.SeedThread
	parent := ""
	for i := 0; i < length; i++ {
		author := fmt.Sprintf("https://host%d.seed.example/users/u%d", rng.IntN(20), rng.IntN(500))
		iri := fmt.Sprintf("%s/statuses/%x-%d-%d", author, run, c.ID, first+i)
		text := sentence(rng, words, 12+rng.IntN(40))
		content := "<p>" + text + "</p>"
		published := at.Add(time.Duration(first+i) * time.Second)
		raw := fmt.Sprintf(`{"id":%q,"type":"Note","attributedTo":%q,"inReplyTo":%q,"content":%q,"published":%q,"to":["https://www.w3.org/ns/activitystreams#Public"]}`,
			iri, author, parent, content, published.Format(time.RFC3339))
		activity := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%s/activity","type":"Create","actor":%q,"object":%s}`, iri, author, raw)
		if i == 0 {
			th.Thread = storage.Thread{CommunityID: c.ID, RootIRI: iri, Title: sentence(rng, words, 6), AuthorIRI: author, CreatedAt: published}
		}
		th.Thread.LastActivityAt = published
		ofActivity, err := render.AnnounceActivity(c, th.Thread, []byte(activity))
		if err != nil {
			return th, err
		}
		ofObject, err := render.AnnounceObject(c, th.Thread, iri)
		if err != nil {
			return th, err
		}
		ofActivity.Listed, ofActivity.CreatedAt, ofActivity.ObjectIRI = true, published, iri
		ofObject.CreatedAt, ofObject.ObjectIRI, ofObject.Boost = published, iri, true
		th.Posts = append(th.Posts, storage.SeedPost{
			Post:        storage.Post{IRI: iri, Type: "Note", AuthorIRI: author, InReplyTo: parent, Content: content, Published: published, Raw: []byte(raw)},
			ActivityIRI: iri + "/activity",
			ActivityRaw: []byte(activity),
			SearchText:  text,
			Announces:   []storage.OutboxActivity{ofActivity, ofObject},
		})
		parent = iri
	}
	return th, nil
}

// vocabulary makes n pronounceable words, so the search index holds many
// distinct terms as a real one does.
func vocabulary(rng *rand.Rand, n int) []string {
	const cons, vows = "bcdfghjklmnprstvz", "aeiou"
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for s := 0; s < 2+rng.IntN(3); s++ {
			b.WriteByte(cons[rng.IntN(len(cons))])
			b.WriteByte(vows[rng.IntN(len(vows))])
		}
		out[i] = b.String()
	}
	return out
}

func sentence(rng *rand.Rand, words []string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		// Squared draws favour the first words, as natural text favours
		// common ones.
		f := rng.Float64()
		parts[i] = words[int(f*f*float64(len(words)))]
	}
	return strings.Join(parts, " ")
}
