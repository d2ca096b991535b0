package scenario

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"aviary.dev/aviary/api/v1beta1"
)

// regexPrefix marks an expected event message that is an RE2 regular expression.
const regexPrefix = "re:"

// eventPattern is one entry of expect.events or expect.absentEvents: an exact
// message, or with the "re:" prefix an RE2 regular expression matched anywhere in
// the message (like regexp.MatchString).
type eventPattern struct {
	text string
	re   *regexp.Regexp
}

func compileEventPattern(s string) (*eventPattern, error) {
	p := &eventPattern{text: s}
	if rest, ok := strings.CutPrefix(s, regexPrefix); ok {
		re, err := regexp.Compile(rest)
		if err != nil {
			return nil, err
		}
		p.re = re
	}
	return p, nil
}

func (p *eventPattern) match(msg string) bool {
	if p.re != nil {
		return p.re.MatchString(msg)
	}
	return msg == p.text
}

// describe renders the pattern for Expected: `"message"` or `matching /regexp/`.
func (p *eventPattern) describe() string {
	if p.re != nil {
		return "matching /" + p.re.String() + "/"
	}
	return strconv.Quote(p.text)
}

// words are the lowercase words of the pattern's text, for ranking near misses.
func (p *eventPattern) words() []string {
	text := p.text
	if p.re != nil {
		text = strings.TrimPrefix(text, regexPrefix)
	}
	return words(text)
}

// observedEvent is one event of the run, with its virtual time.
type observedEvent struct {
	at  time.Duration
	msg string
}

func (e observedEvent) String() string {
	return fmt.Sprintf("at %s: %s", e.at, quoteShort(e.msg))
}

// Check evaluates the expectations against a run result (docs/scenario-format.md#specexpect). Results come
// in the order of the Expectations fields (phase, within, routes, maxCanaryWeight,
// events, absentEvents, hookCalls by Flagger's hook order, alerts by name,
// failedRequests); keys not
// given are not checked. A nil exp checks nothing.
func Check(exp *Expectations, r *Result) []ExpectationResult {
	if exp == nil || r == nil {
		return nil
	}
	var out []ExpectationResult
	if exp.Phase != "" {
		out = append(out, ExpectationResult{
			Name: "phase", Expected: exp.Phase, Observed: phaseOf(r), OK: r.Phase == exp.Phase,
		})
	}
	if exp.Within.Duration > 0 {
		out = append(out, checkWithin(exp, r))
	}
	if exp.Routes != nil {
		out = append(out, ExpectationResult{
			Name: "routes", Expected: formatWeights(exp.Routes), Observed: formatWeights(r.Routes),
			OK: equalInts(exp.Routes, r.Routes),
		})
	}
	if exp.MaxCanaryWeight != nil {
		out = append(out, ExpectationResult{
			Name: "maxCanaryWeight", Expected: strconv.Itoa(*exp.MaxCanaryWeight),
			Observed: strconv.Itoa(r.MaxCanaryWeight), OK: r.MaxCanaryWeight == *exp.MaxCanaryWeight,
		})
	}
	if len(exp.Events) > 0 || len(exp.AbsentEvents) > 0 {
		// One entry per event a tick emitted: a long run's repeats are many.
		events := eventsOf(r)
		out = append(out, checkEvents(exp.Events, events)...)
		out = append(out, checkAbsentEvents(exp.AbsentEvents, events)...)
	}
	out = append(out, checkHookCalls(exp.HookCalls, r)...)
	out = append(out, checkAlerts(exp.Alerts, r)...)
	if c := exp.FailedRequests; c != nil {
		out = append(out, ExpectationResult{
			Name:     "failedRequests",
			Expected: countPhrase(*c, "failed user request"),
			Observed: plural(r.FailedUserRequests, "failed user request"),
			OK:       c.Holds(r.FailedUserRequests),
		})
	}
	return out
}

func phaseOf(r *Result) string {
	if r.Phase == "" {
		return "no phase (no tick ran)"
	}
	return r.Phase
}

func checkWithin(exp *Expectations, r *Result) ExpectationResult {
	what := "Succeeded or Failed"
	if exp.Phase != "" {
		what = exp.Phase
	}
	res := ExpectationResult{Name: "within", Expected: fmt.Sprintf("%s by %s", what, exp.Within.Duration)}
	switch {
	case r.DecidedAt == nil:
		res.Observed = fmt.Sprintf("never decided: phase %s at the end (%s)", phaseOf(r), r.Until)
	default:
		// Expected names the phase: another one, however early, does not hold.
		res.Observed = fmt.Sprintf("%s at %s", r.Phase, *r.DecidedAt)
		res.OK = time.Duration(*r.DecidedAt) <= exp.Within.Duration && (exp.Phase == "" || r.Phase == exp.Phase)
	}
	return res
}

func eventsOf(r *Result) []observedEvent {
	var out []observedEvent
	for t := range r.EachTick() {
		for _, e := range t.Events {
			out = append(out, observedEvent{at: t.At.Sub(Epoch), msg: e.Message})
		}
	}
	return out
}

// sequence names what an ordered list of patterns is matched against, for its
// results: key prefixes the entries' names ("events" gives "events[0]"), noun is
// what one observed item is ("event"), none says there were none at all.
type sequence struct {
	key, noun, none string
}

var eventSequence = sequence{key: "events", noun: "event", none: "no events were emitted"}

// checkEvents matches the expected events as an ordered subsequence of the observed
// ones. An entry that is not found is reported with the last matched entry and the
// closest observed events; the following entries are searched from the same place.
func checkEvents(expected []string, events []observedEvent) []ExpectationResult {
	return checkSequence(eventSequence, expected, events, nil)
}

// checkSequence matches patterns as an ordered subsequence of observed items (see
// checkEvents). elsewhere, when not nil, adds to the explanation of a missing entry
// where else its pattern did match (an alert raised but not sent where expected).
func checkSequence(seq sequence, expected []string, events []observedEvent, elsewhere func(*eventPattern) string) []ExpectationResult {
	var out []ExpectationResult
	pos := 0     // next event to search from
	lastOK := -1 // index of the last matched entry
	lastAt := -1 // index of the event it matched
	for i, text := range expected {
		name := fmt.Sprintf("%s[%d]", seq.key, i)
		p, err := compileEventPattern(text)
		if err != nil {
			out = append(out, ExpectationResult{Name: name, Expected: seq.noun + " " + strconv.Quote(text),
				Observed: "bad regular expression: " + err.Error()})
			continue
		}
		res := ExpectationResult{Name: name, Expected: seq.noun + " " + p.describe()}
		if lastOK >= 0 {
			res.Expected += fmt.Sprintf(", after %s[%d]", seq.key, lastOK)
		}
		found := -1
		for j := pos; j < len(events); j++ {
			if p.match(events[j].msg) {
				found = j
				break
			}
		}
		if found >= 0 {
			res.OK = true
			res.Observed = events[found].String()
			pos, lastOK, lastAt = found+1, i, found
			out = append(out, res)
			continue
		}
		res.Observed = missingEvent(seq, p, events, pos, lastOK, lastAt)
		if elsewhere != nil {
			res.Observed += elsewhere(p)
		}
		out = append(out, res)
	}
	return out
}

// missingEvent explains an expected event that was not found from pos on.
func missingEvent(seq sequence, p *eventPattern, events []observedEvent, pos, lastOK, lastAt int) string {
	if len(events) == 0 {
		return seq.none
	}
	var b strings.Builder
	if lastOK >= 0 {
		fmt.Fprintf(&b, "not found after %s[%d] (matched %s)", seq.key, lastOK, events[lastAt])
	} else {
		fmt.Fprintf(&b, "not found among %s", plural(int64(len(events)), seq.noun))
	}
	for j := 0; j < pos; j++ {
		if p.match(events[j].msg) {
			fmt.Fprintf(&b, "; it occurred earlier, %s", events[j])
			return b.String()
		}
	}
	if pos >= len(events) {
		fmt.Fprintf(&b, "; no %ss after it", seq.noun)
		return b.String()
	}
	if near := nearest(p, events[pos:], 3); len(near) > 0 {
		b.WriteString("; closest: ")
		b.WriteString(strings.Join(near, "; "))
	}
	return b.String()
}

// nearest returns up to n distinct observed messages most similar to the pattern,
// each with its first time and how often it occurred.
func nearest(p *eventPattern, events []observedEvent, n int) []string {
	type cand struct {
		first observedEvent
		count int
		score float64
		order int
	}
	want := p.words()
	byMsg := map[string]*cand{}
	var cands []*cand
	for _, e := range events {
		if c, ok := byMsg[e.msg]; ok {
			c.count++
			continue
		}
		c := &cand{first: e, count: 1, score: similarity(want, words(e.msg)), order: len(cands)}
		byMsg[e.msg] = c
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].order < cands[j].order
	})
	var out []string
	for i, c := range cands {
		if i == n {
			break
		}
		s := c.first.String()
		if c.count > 1 {
			s += fmt.Sprintf(" (%d times)", c.count)
		}
		out = append(out, s)
	}
	return out
}

// similarity is the share of words the two lists have in common (Dice coefficient).
func similarity(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	set := map[string]int{}
	for _, w := range a {
		set[w]++
	}
	common := 0
	for _, w := range b {
		if set[w] > 0 {
			set[w]--
			common++
		}
	}
	return 2 * float64(common) / float64(len(a)+len(b))
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func checkAbsentEvents(absent []string, events []observedEvent) []ExpectationResult {
	return checkAbsent(sequence{key: "absentEvents", noun: "event"}, absent, events)
}

// checkAbsent requires that no observed item matches any of the patterns.
func checkAbsent(seq sequence, absent []string, events []observedEvent) []ExpectationResult {
	var out []ExpectationResult
	for i, text := range absent {
		name := fmt.Sprintf("%s[%d]", seq.key, i)
		p, err := compileEventPattern(text)
		if err != nil {
			out = append(out, ExpectationResult{Name: name, Expected: "no " + seq.noun + " " + strconv.Quote(text),
				Observed: "bad regular expression: " + err.Error()})
			continue
		}
		res := ExpectationResult{Name: name, Expected: "no " + seq.noun + " " + p.describe()}
		var hits []observedEvent
		for _, e := range events {
			if p.match(e.msg) {
				hits = append(hits, e)
			}
		}
		if len(hits) == 0 {
			res.OK, res.Observed = true, "none"
		} else {
			res.Observed = hits[0].String()
			if len(hits) > 1 {
				res.Observed += fmt.Sprintf(" (and %d more)", len(hits)-1)
			}
		}
		out = append(out, res)
	}
	return out
}

// checkHookCalls counts the webhook calls of the run by type ("" counts as rollout).
func checkHookCalls(want map[string]Count, r *Result) []ExpectationResult {
	if len(want) == 0 {
		return nil
	}
	calls, failed := map[string]int64{}, map[string]int64{}
	for t := range r.EachTick() {
		for _, c := range t.Hooks {
			typ := c.Type
			if typ == "" {
				typ = string(v1beta1.RolloutHook)
			}
			calls[typ]++
			if !c.OK {
				failed[typ]++
			}
		}
	}
	var out []ExpectationResult
	for _, typ := range hookTypeOrder(want) {
		c := want[typ]
		obs := plural(calls[typ], "call")
		if failed[typ] > 0 {
			obs += fmt.Sprintf(" (%d failed)", failed[typ])
		}
		out = append(out, ExpectationResult{
			Name: "hookCalls." + typ, Expected: countPhrase(c, "call"), Observed: obs, OK: c.Holds(calls[typ]),
		})
	}
	return out
}

// hookTypeOrder lists the keys in the order of a rollout's lifecycle, unknown keys last.
func hookTypeOrder(want map[string]Count) []string {
	var out []string
	for _, h := range v1beta1.HookTypes {
		if _, ok := want[string(h)]; ok {
			out = append(out, string(h))
		}
	}
	for _, k := range sortedMapKeys(want) {
		if !isHookType(k) {
			out = append(out, k)
		}
	}
	return out
}

// countPhrase renders a count with its unit: "1 call", "at least 3 calls".
func countPhrase(c Count, unit string) string {
	if c.Exact != nil {
		return plural(*c.Exact, unit)
	}
	return c.String() + " " + unit + "s"
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// formatWeights renders canary weights as [10, 20, 0].
func formatWeights(w []int) string {
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// quoteShort quotes a message, eliding the middle of a long one.
func quoteShort(s string) string {
	const max = 140
	if r := []rune(s); len(r) > max {
		s = string(r[:max-20]) + "…" + string(r[len(r)-19:])
	}
	return strconv.Quote(s)
}
