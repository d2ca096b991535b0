package scenario

import (
	"maps"
	"net/url"
	"sort"
	"strings"
)

// Which spec.hooks entry answers a webhook call (docs/scenario-format.md#spechooks).
// The rule is the scenario format's: the loader checks it against the Canary's
// webhooks and the runner's webhook script applies it to every call, both through
// SelectEndpoint.

// WebhookCall is one webhook call as spec.hooks entries select it: the hook's name
// and metadata as written in the Canary, and the URL as the HTTP client requests it.
type WebhookCall struct {
	Name     string
	Metadata map[string]string
	URL      string
}

// Specificity of an entry: the more specific entry answers a call both select.
const (
	selectsByURL      = 1 // url alone
	selectsByMetadata = 2 // metadata (with or without url)
	selectsByName     = 3 // name (with or without url or metadata)
)

// specificity ranks an entry by the most specific selector it has: name, then
// metadata, then url; 0 for an entry with none (which the loader refuses).
func (e *WebhookEndpoint) specificity() int {
	switch {
	case e.Name != "":
		return selectsByName
	case len(e.Metadata) > 0:
		return selectsByMetadata
	case e.URL != "":
		return selectsByURL
	}
	return 0
}

// selects reports whether every selector the entry gives matches the call: the name,
// the URL (compared as the HTTP client requests it) and each metadata pair, which
// the hook's metadata must hold with the same value.
func (e *WebhookEndpoint) selects(c WebhookCall) bool {
	if e.specificity() == 0 {
		return false
	}
	if e.Name != "" && e.Name != c.Name {
		return false
	}
	if e.URL != "" && RequestURL(e.URL) != c.URL {
		return false
	}
	for k, v := range e.Metadata {
		if got, ok := c.Metadata[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// selecting returns the indexes of the most specific entries of hooks that select
// the call, in order; more than one is an ambiguity.
func selecting(hooks []WebhookEndpoint, c WebhookCall) []int {
	var best []int
	rank := 0
	for i := range hooks {
		e := &hooks[i]
		if !e.selects(c) {
			continue
		}
		switch s := e.specificity(); {
		case s > rank:
			best, rank = []int{i}, s
		case s == rank:
			best = append(best, i)
		}
	}
	return best
}

// SelectEndpoint returns the index of the spec.hooks entry that answers the call, or
// -1 when none selects it (the endpoint then answers 200 at once). The most specific
// entry that selects the call answers it: one that names the hook wins over one that
// matches metadata, which wins over one that gives only the URL. The loader refuses
// two equally specific entries selecting one of the Canary's webhooks; for a webhook
// that only a timeline patch writes, the first of them answers.
func SelectEndpoint(hooks []WebhookEndpoint, c WebhookCall) int {
	if best := selecting(hooks, c); len(best) > 0 {
		return best[0]
	}
	return -1
}

// RequestURL is a webhook URL as the HTTP client requests it (parsed and written
// again: the scheme and host lowercased, say), or as written when it does not parse.
func RequestURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.String()
	}
	return s
}

// sameSelectors reports whether two entries select exactly the same calls.
func sameSelectors(a, b *WebhookEndpoint) bool {
	return a.Name == b.Name && (a.URL == b.URL || a.URL != "" && b.URL != "" && RequestURL(a.URL) == RequestURL(b.URL)) &&
		maps.Equal(a.Metadata, b.Metadata)
}

// selectorText describes what an entry selects, for messages: `name "x", url y,
// metadata {k: v}`.
func (e *WebhookEndpoint) selectorText() string {
	var parts []string
	if e.Name != "" {
		parts = append(parts, `name "`+e.Name+`"`)
	}
	if e.URL != "" {
		parts = append(parts, "url "+e.URL)
	}
	if len(e.Metadata) > 0 {
		parts = append(parts, "metadata "+metadataText(e.Metadata))
	}
	return strings.Join(parts, ", ")
}

// metadataText renders metadata as {k: v, ...} in key order.
func metadataText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
