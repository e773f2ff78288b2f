// Package sanitize makes remote HTML safe to store and show.
//
// Every piece of HTML a peer sends (content, summary) passes through
// [Policy.HTML] on ingest, before it is stored; fields that must hold no
// markup at all (name, preferredUsername, titles) pass through [Policy.Text].
// [Policy.FirstLine] derives a thread title from content for peers, such as
// Mastodon, whose posts have no name.
//
// The HTML policy is an allow-list built on bluemonday: paragraphs, line
// breaks, links to http, https and mailto URLs, basic inline formatting,
// quotes, code, lists, headings, rules, images from http and https URLs and
// simple tables. The only classes kept are the microformat and mention
// classes peers use ("h-card", "u-url", "mention", "hashtag", and Mastodon's
// "invisible" and "ellipsis" link shortening). Every link is given
// rel="nofollow noopener noreferrer ugc". Scripts, styles, frames, forms,
// event handlers, style attributes, relative URLs and any other scheme are
// dropped, and the output has its tags balanced so stored HTML can never
// close an element of the page around it.
//
// All output is valid UTF-8 without NUL or other control characters, and
// input is cut to [MaxHTML] bytes first (SECURITY.md CON-01, CON-02, CON-05,
// PAR-07). Templates still escape by default: this package is the first of
// two defences, not the only one.
//
// The package knows nothing about ActivityStreams, storage or HTTP, and it
// keeps no state outside the [Policy] value.
package sanitize
