package scenario

import (
	"encoding/json"
	"fmt"
	"strings"

	"aviary.dev/aviary/api/v1beta1"
)

// ---------------------------------------------------------------------------------
// spec.hooks: simulated webhook endpoints and the calls they answer

// validateHooks checks each spec.hooks entry on its own: it says which calls it
// answers, no two entries say it alike, and its responses are in order and in range.
// Whether the entries fit the Canary's webhooks is checkHookSelection's.
func (l *loader) validateHooks(hooks []WebhookEndpoint) {
	for i := range hooks {
		h := &hooks[i]
		p := fmt.Sprintf("spec.hooks[%d]", i)
		switch {
		case l.present(p+".name") && h.Name == "":
			l.errAt(p+".name", "empty name (the name of one of the Canary's webhooks, as written in it)")
		case l.present(p+".url") && h.URL == "":
			l.errAt(p+".url", "empty url")
		case l.present(p+".metadata") && len(h.Metadata) == 0:
			l.errAt(p+".metadata", "empty: give the key: value pairs the hook's metadata must hold, or leave metadata out")
		case h.specificity() == 0:
			l.errAt(p, "say which calls this entry answers: name (a webhook of the Canary), url, metadata, or several of them")
		default:
			for j := range i {
				if sameSelectors(h, &hooks[j]) {
					l.errAt(p, "selects the same calls as spec.hooks[%d] (%s): give each endpoint its responses once", j, h.selectorText())
					break
				}
			}
		}
		if len(h.Responses) == 0 {
			l.errAt(p+".responses", "required: at least one response, e.g. [{from: 0s, status: 200}]")
		}
		for j, r := range h.Responses {
			rp := fmt.Sprintf("%s.responses[%d]", p, j)
			if j > 0 && r.From.Duration <= h.Responses[j-1].From.Duration {
				l.errAt(rp+".from", "%s is not after responses[%d].from %s (list responses in order of from)", r.From.Duration, j-1, h.Responses[j-1].From.Duration)
			}
			if r.Status != 0 && (r.Status < 100 || r.Status > 599) {
				l.errAt(rp+".status", "want an HTTP status between 100 and 599, got %d", r.Status)
			}
		}
	}
}

// checkAgainstPolicy checks the parts of the scenario that name things in the
// policy: spec.hooks entries and spec.expect.alerts keys.
func (l *loader) checkAgainstPolicy(s *Scenario, ld *Loaded) {
	l.checkHookSelection(s, ld.Canary)
	if s.Spec.Expect != nil {
		l.checkAlertKeys(s, ld.Canary)
	}
}

// checkHookSelection checks spec.hooks against the webhooks the Canary has, or is
// given by a timeline patch: a name entry names one of them, a metadata entry
// selects at least one, and no webhook is selected by two equally specific entries
// (SelectEndpoint could not say which answers). A url-only entry may simulate an
// endpoint no webhook calls.
func (l *loader) checkHookSelection(s *Scenario, cd *v1beta1.Canary) {
	hooks := s.Spec.Hooks
	if len(hooks) == 0 {
		return
	}
	webhooks := canaryWebhooks(s, cd)
	calls := make([]WebhookCall, len(webhooks))
	names := map[string]bool{}
	var nameList []string
	for i, w := range webhooks {
		calls[i] = WebhookCall{Name: w.Name, URL: RequestURL(w.URL)}
		if w.Metadata != nil {
			calls[i].Metadata = *w.Metadata
		}
		if !names[w.Name] {
			names[w.Name] = true
			nameList = append(nameList, w.Name)
		}
	}
	which := fmt.Sprintf("Canary %s has no webhooks", cd.Name)
	if len(webhooks) > 0 {
		which = fmt.Sprintf("Canary %s's webhooks: %s", cd.Name, describeWebhooks(webhooks))
	}
	for i := range hooks {
		h := &hooks[i]
		p := fmt.Sprintf("spec.hooks[%d]", i)
		if h.Name != "" && !names[h.Name] {
			l.errAt(p+".name", "no webhook named %q%s (%s)", h.Name, suggest(h.Name, append([]string(nil), nameList...)), which)
			continue
		}
		if h.Name != "" || len(h.Metadata) > 0 {
			selected := false
			for _, c := range calls {
				selected = selected || h.selects(c)
			}
			if !selected {
				l.errAt(p, "%s selects no webhook (%s)", h.selectorText(), which)
			}
		}
	}
	for i, c := range calls {
		if best := selecting(hooks, c); len(best) > 1 {
			l.errAt(fmt.Sprintf("spec.hooks[%d]", best[1]),
				"spec.hooks[%d] and spec.hooks[%d] both select webhook %q and are equally specific, so which answers it is not said: "+
					"merge them, or make one more specific (a name wins over metadata, metadata over url)",
				best[0], best[1], webhooks[i].Name)
		}
	}
}

// canaryWebhooks are the Canary's webhooks, then those a timeline patch writes (a
// merge patch replaces the whole list), in order, each distinct name, URL and
// metadata once.
func canaryWebhooks(s *Scenario, cd *v1beta1.Canary) []v1beta1.CanaryWebhook {
	var out []v1beta1.CanaryWebhook
	seen := map[string]bool{}
	for _, a := range analyses(s, cd) {
		for _, w := range a.Webhooks {
			key := w.Name + "\x00" + w.URL
			if w.Metadata != nil {
				key += "\x00" + metadataText(*w.Metadata)
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// analyses are the Canary's analysis and those timeline patches write, in order.
func analyses(s *Scenario, cd *v1beta1.Canary) []*v1beta1.CanaryAnalysis {
	var out []*v1beta1.CanaryAnalysis
	if a := cd.GetAnalysis(); a != nil {
		out = append(out, a)
	}
	for _, a := range s.Spec.Timeline {
		if a.Patch == nil {
			continue
		}
		data, err := json.Marshal(a.Patch)
		if err != nil {
			continue
		}
		var patched v1beta1.Canary
		if json.Unmarshal(data, &patched) != nil {
			continue // checkPatch reports what does not fit the Canary
		}
		if p := patched.GetAnalysis(); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// describeWebhooks lists webhooks for messages: name (type, url, metadata).
func describeWebhooks(hooks []v1beta1.CanaryWebhook) string {
	parts := make([]string, len(hooks))
	for i, w := range hooks {
		typ := string(w.Type)
		if typ == "" {
			typ = string(v1beta1.RolloutHook)
		}
		s := fmt.Sprintf("%s (%s, %s", w.Name, typ, w.URL)
		if w.Metadata != nil && len(*w.Metadata) > 0 {
			s += ", metadata " + metadataText(*w.Metadata)
		}
		parts[i] = s + ")"
	}
	return strings.Join(parts, "; ")
}
