package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// mastodonContext is the "@context" Mastodon 4 puts on a status's Create:
// ActivityStreams, then its own terms (Mastodon's ActivityPub serializer,
// read for the facts; the fixture of shared/fixtures is a trimmed copy).
const mastodonContext = `["https://www.w3.org/ns/activitystreams",{"ostatus":"http://ostatus.org#","atomUri":"ostatus:atomUri",` +
	`"inReplyToAtomUri":"ostatus:inReplyToAtomUri","conversation":"ostatus:conversation","sensitive":"as:sensitive",` +
	`"toot":"http://joinmastodon.org/ns#","votersCount":"toot:votersCount","blurhash":"toot:blurhash",` +
	`"focalPoint":{"@container":"@list","@id":"toot:focalPoint"},"Hashtag":"as:Hashtag"}]`

// mastodonPost is post i as Mastodon sends a public status mentioning the
// community: the fields of shared/fixtures' create_note.json (summary,
// url, sensitive, atomUri, conversation, contentMap, attachment, replies)
// with Mastodon's full context, a Mention and two Hashtags, and the
// Linked Data signature Mastodon adds to public Creates (its value is not
// checked by anyone here, as by most servers). Some 2.8 KB, against the
// plain post's 0.8.
func mastodonPost(actor, note, now, community string, i int) string {
	host := actor[:strings.Index(actor[len("http://"):], "/")+len("http://")]
	name := actor[strings.LastIndex(actor, "/")+1:]
	content := fmt.Sprintf(`<p><span class=\"h-card\" translate=\"no\"><a href=\"%[1]s\" class=\"u-url mention\">@<span>loadtest</span></a></span> `+
		`Post %[2]d of the load run: notes on grafting, rootstock and scion timing. `+
		`<a href=\"%[3]s/tags/grafting\" class=\"mention hashtag\" rel=\"tag\">#<span>grafting</span></a> `+
		`<a href=\"%[3]s/tags/orchards\" class=\"mention hashtag\" rel=\"tag\">#<span>orchards</span></a></p>`, community, i, host)
	sum := sha256.Sum256([]byte(note))
	sig := strings.Repeat(base64.StdEncoding.EncodeToString(sum[:]), 8)[:344]
	return fmt.Sprintf(`{"@context":%[1]s,"id":"%[2]s/activity","type":"Create","actor":"%[3]s","published":"%[4]s",`+
		`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%[3]s/followers","%[5]s"],`+
		`"object":{"id":"%[2]s","type":"Note","summary":null,"inReplyTo":null,"published":"%[4]s","url":"%[6]s/@%[7]s/%[8]d",`+
		`"attributedTo":"%[3]s","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%[3]s/followers","%[5]s"],"sensitive":false,`+
		`"atomUri":"%[2]s","inReplyToAtomUri":null,"conversation":"tag:%[9]s,2026-12-04:objectId=%[8]d:objectType=Conversation",`+
		`"content":"%[10]s","contentMap":{"en":"%[10]s"},"attachment":[],`+
		`"tag":[{"type":"Mention","href":"%[5]s","name":"@loadtest@%[9]s"},`+
		`{"type":"Hashtag","href":"%[6]s/tags/grafting","name":"#grafting"},{"type":"Hashtag","href":"%[6]s/tags/orchards","name":"#orchards"}],`+
		`"replies":{"id":"%[2]s/replies","type":"Collection","first":{"type":"CollectionPage","next":"%[2]s/replies?only_other_accounts=true&page=true","partOf":"%[2]s/replies","items":[]}}},`+
		`"signature":{"type":"RsaSignature2017","creator":"%[3]s#main-key","created":"%[4]s","signatureValue":"%[11]s"}}`,
		mastodonContext, note, actor, now, community, host, name, 100000+i, host[len("http://"):], content, sig)
}
