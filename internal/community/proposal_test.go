package community

import "testing"

// TestResourceProposalSpellings: the #resource tag is found however it is
// cased or written (Mastodon's hashtag link, plain text, case-folded
// letters), and not in a post without it.
func TestResourceProposalSpellings(t *testing.T) {
	const link = `<a href="https://seeds.example/clean">howto</a>`
	for _, tt := range []struct {
		content string
		want    bool
	}{
		{`<p>` + link + ` #resource</p>`, true},
		{`<p>` + link + ` #Resource</p>`, true},
		{`<p>` + link + ` #RESOURCE</p>`, true},
		{`<p>` + link + ` #reſource</p>`, true}, // long s folds to s under (?i)
		{`<p>` + link + ` <a href="https://a.example/tags/Resource" class="mention hashtag" rel="tag">#<span>Resource</span></a></p>`, true},
		{`<p>` + link + ` #resources</p>`, false},
		{`<p>` + link + ` #source</p>`, false},
		{`<p>` + link + `</p>`, false},
	} {
		_, got := resourceProposal(Note{IRI: "https://a.example/n/1", Content: tt.content})
		if got != tt.want {
			t.Errorf("resourceProposal(%q) = %v, want %v", tt.content, got, tt.want)
		}
	}
}
