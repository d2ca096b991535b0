// Package reports renders run results for people and machines: the terminal views
// (suite summary, tick-by-tick run), and the JSON, JUnit XML and HTML artifacts. It
// reads scenario.Result records only; it never runs anything.
package reports

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// Style chooses terminal decoration.
type Style struct {
	// Color enables ANSI colours (only when writing to a terminal, NO_COLOR unset).
	Color bool
	// Width is the terminal's width in columns, 0 when not writing to a terminal:
	// the summary's last column is cut to fit it.
	Width int
}

// reasonMax is how long the summary's WHY column may be when the width is unknown
// (a pipe, a CI log): the short forms are far shorter; this only bounds a message
// quoted from an event.
const reasonMax = 120

// reasonMin is the least of the WHY column a narrow terminal still gets: below it
// the line wraps rather than say nothing.
const reasonMin = 24

// Paint wraps text in an ANSI colour code when colours are on.
func (s Style) Paint(code, text string) string {
	if !s.Color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s Style) verdict(ok bool) string {
	if ok {
		return s.Paint("32", "PASS")
	}
	return s.Paint("31;1", "FAIL")
}

// WriteSummary writes one row per scenario (name, verdict, final phase, time of the
// decision, max canary weight, failed user requests, and why in a few words: the
// HTML report's explanation in short), then, for each failed scenario, what each
// failed expectation wanted and what happened. On a terminal too narrow for the
// WHY column, each row's reason goes on a line of its own under it.
func WriteSummary(w io.Writer, results []*scenario.Result, st Style) error {
	reasons := make([]string, len(results))
	passed := 0
	for i, r := range results {
		reasons[i] = explain(r).Short
		if r.Passed {
			passed++
		}
	}
	lines, err := summaryTable(results, reasons, true)
	if err != nil {
		return err
	}
	why := utf8.RuneCountInString(lines[0][:strings.Index(lines[0], "WHY")])
	room, below := reasonMax, false
	if st.Width > 0 {
		room = st.Width - why
		if room < reasonMin {
			if lines, err = summaryTable(results, reasons, false); err != nil {
				return err
			}
			room, below = max(st.Width-4, reasonMin), true
		}
	}
	col := utf8.RuneCountInString(lines[0][:strings.Index(lines[0], "RESULT")])
	for i, line := range lines {
		if i > 0 && i <= len(results) {
			if !below {
				line = cutLine(line, why+room)
			}
			line = paintColumn(line, col, st.verdict(results[i-1].Passed))
			if below {
				line += cutLine("    "+reasons[i-1]+"\n", room+4)
			}
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.Passed {
			continue
		}
		fmt.Fprintf(w, "\n%s %s", st.Paint("31;1", "FAIL"), r.Scenario)
		if r.File != "" {
			fmt.Fprintf(w, " (%s)", r.File)
		}
		fmt.Fprintln(w)
		io.WriteString(w, FailedExpectations(r))
	}
	fmt.Fprintf(w, "\n%d passed, %d failed\n", passed, len(results)-passed)
	return nil
}

// FailedExpectations says, for each failed expectation of r, what it wanted and
// what happened, two-space indented, a line each and a newline at the end; "" when
// every one holds. The summary lists them under each failed scenario.
func FailedExpectations(r *scenario.Result) string {
	var b strings.Builder
	for _, e := range r.Expectations {
		if !e.OK {
			fmt.Fprintf(&b, "  %s\n    expected: %s\n    observed: %s\n", e.Name, e.Expected, e.Observed)
		}
	}
	return b.String()
}

// summaryTable aligns the summary's header and rows, with the WHY column or
// without it; the lines keep their newlines. Plain text: tabwriter would count
// colour codes as width.
func summaryTable(results []*scenario.Result, reasons []string, withWhy bool) ([]string, error) {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	header := "SCENARIO\tRESULT\tPHASE\tDECIDED\tMAX WEIGHT\tFAILED REQUESTS"
	if withWhy {
		header += "\tWHY"
	}
	fmt.Fprintln(tw, header)
	for i, r := range results {
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s", r.Scenario, Style{}.verdict(r.Passed), orDash(r.Phase), decided(r),
			r.MaxCanaryWeight, thousands(r.FailedUserRequests))
		if withWhy {
			row += "\t" + reasons[i]
		}
		fmt.Fprintln(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	return strings.SplitAfter(table.String(), "\n"), nil
}

// cutLine cuts a table line to n runes, marking the cut with "…".
func cutLine(line string, n int) string {
	body := strings.TrimSuffix(line, "\n")
	if utf8.RuneCountInString(body) <= n {
		return line
	}
	return truncate(body, n-1) + "\n"
}

// paintColumn replaces the 4-rune verdict that starts at rune col of an aligned line
// with its painted form.
func paintColumn(line string, col int, painted string) string {
	r := []rune(line)
	if col+4 > len(r) {
		return line
	}
	return string(r[:col]) + painted + string(r[col+4:])
}

// RunView chooses which ticks WriteRun shows.
type RunView struct {
	// UntilDecided leaves out the idle ticks after the first decision (Succeeded or
	// Failed): those whose record is quiet (engine.TickRecord.Quiet, what the
	// simulator repeats instead of running), saying how many. Ticks after the
	// decision that do something (a new revision, an event) are still shown.
	UntilDecided bool
}

// WriteRun writes a run tick by tick: time, phase, weights, every metric's value
// against its threshold, hook calls, events and alerts; then the expectations.
func WriteRun(w io.Writer, r *scenario.Result, st Style, view RunView) error {
	fmt.Fprintf(w, "scenario %s (%s mode)\n", r.Scenario, r.Mode)
	if r.Description != "" {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(r.Description))
	}
	fmt.Fprintln(w)
	decided := false
	// idle counts the idle ticks left out since the last shown, from first to last.
	idle := 0
	var first, last engine.TickRecord
	flush := func() {
		if idle == 0 {
			return
		}
		span := clockTime(at(first))
		if idle > 1 {
			span += " to " + clockTime(at(last))
		}
		fmt.Fprintf(w, "%s (%s, %s, weights %d/%d)\n", st.Paint("2", "… "+plural(idle, "idle tick")+" not shown"),
			span, orDash(last.Phase), last.PrimaryWeight, last.CanaryWeight)
		idle = 0
	}
	for t := range r.EachTick() {
		if decided && view.UntilDecided && t.Quiet() {
			if idle == 0 {
				first = t
			}
			last = t
			idle++
			continue
		}
		flush()
		writeTick(w, t, st)
		decided = decided || t.PhaseBefore != t.Phase && (t.Phase == "Succeeded" || t.Phase == "Failed")
	}
	flush()
	fmt.Fprintf(w, "\n%s\n", Outcome(r))
	for _, e := range r.Expectations {
		fmt.Fprintf(w, "  %s %s: expected %s, observed %s\n", st.verdict(e.OK), e.Name, e.Expected, e.Observed)
	}
	return nil
}

// Outcome is what a run ended with, in one line: final phase and when it was
// decided, routes, max canary weight and failed user requests, e.g. "final phase
// Failed at 07:00; routes [10 20 30 0]; max canary weight 30; failed user requests
// on new versions 2,544". WriteRun ends with it.
func Outcome(r *scenario.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "final phase %s", orDash(r.Phase))
	if r.DecidedAt != nil {
		fmt.Fprintf(&b, " at %s", clockTime(time.Duration(*r.DecidedAt)))
	}
	fmt.Fprintf(&b, "; routes %v; max canary weight %d; failed user requests on new versions %s",
		r.Routes, r.MaxCanaryWeight, thousands(r.FailedUserRequests))
	return b.String()
}

// Why is the explanation of a run's decision in one sentence, as the HTML report
// and JUnit give it, e.g. "Rolled back at 7m: failed checks threshold reached (5
// failed checks): request-success-rate 92.1% < 99% at 3m, 4m, ...". The summary's
// WHY column is its short form.
func Why(r *scenario.Result) string { return explain(r).text() }

func writeTick(w io.Writer, t engine.TickRecord, st Style) {
	phase := orDash(t.Phase)
	if t.PhaseBefore != t.Phase {
		phase = orDash(t.PhaseBefore) + " -> " + phase
	}
	fmt.Fprintf(w, "%s  %-30s  weights %3d/%-3d  failedChecks %d", clockTime(t.At.Sub(scenario.Epoch)), phase, t.PrimaryWeight, t.CanaryWeight, t.FailedChecks)
	if t.Mirrored {
		fmt.Fprint(w, "  mirrored")
	}
	if t.Iterations > 0 {
		fmt.Fprintf(w, "  iterations %d", t.Iterations)
	}
	fmt.Fprintln(w)
	for _, m := range t.Metrics {
		fmt.Fprintf(w, "        %s %-24s %s  %s\n", outcomeMark(m.Outcome, st), m.Name, metricValue(m), bounds(m))
	}
	for _, h := range t.Hooks {
		res := st.Paint("32", "ok")
		if !h.OK {
			res = st.Paint("31", "failed: "+h.Error)
		}
		fmt.Fprintf(w, "        hook %s %s (%s) %s\n", h.Type, h.Name, h.URL, res)
	}
	for _, e := range t.Events {
		typ := e.Type
		if typ == "Warning" {
			typ = st.Paint("33", typ)
		}
		fmt.Fprintf(w, "        event %s %s\n", typ, e.Message)
	}
	for _, a := range t.Alerts {
		writeAlert(w, a, st)
	}
	if t.Error != "" {
		fmt.Fprintf(w, "        %s %s\n", st.Paint("31", "error:"), t.Error)
	}
}

// writeAlert writes an alert, where Flagger routes it, and the fields its message
// carries:
//
//	alert error Failed checks threshold reached 5 -> on-call (slack #on-call), releases (not sent: ...)
func writeAlert(w io.Writer, a engine.Alert, st Style) {
	sev := a.Severity
	switch sev {
	case "error":
		sev = st.Paint("31", sev)
	case "warn":
		sev = st.Paint("33", sev)
	}
	fmt.Fprintf(w, "        alert %s %s -> %s\n", sev, a.Message, alertDestinations(a, st))
	if len(a.Fields) > 0 {
		fields := make([]string, len(a.Fields))
		for i, f := range a.Fields {
			fields[i] = f.Name + ": " + f.Value
		}
		fmt.Fprintf(w, "              %s\n", strings.Join(fields, " · "))
	}
}

// alertDestinations says where an alert goes: the global notifier, the entries of
// analysis.alerts that get it (with the provider's type and channel, or why it is
// not sent there), or nowhere.
func alertDestinations(a engine.Alert, st Style) string {
	if a.Global {
		return "global notifier (no analysis.alerts)"
	}
	if len(a.Recipients) == 0 {
		return "no analysis.alerts entry admits it"
	}
	parts := make([]string, len(a.Recipients))
	for i, r := range a.Recipients {
		parts[i] = r.Alert + " (" + recipientText(r) + ")"
		if r.Error != "" {
			parts[i] = r.Alert + " (" + st.Paint("31", recipientText(r)) + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// recipientText is a recipient's provider type and channel, or why it is not sent.
func recipientText(r engine.AlertRecipient) string {
	if r.Error != "" {
		return "not sent: " + r.Error
	}
	if r.Channel != "" {
		return r.Type + " #" + r.Channel
	}
	return r.Type
}

func outcomeMark(o analysis.Outcome, st Style) string {
	switch o {
	case analysis.OutcomePass:
		return st.Paint("32", "pass  ")
	case analysis.OutcomeNoData:
		return st.Paint("33", "nodata")
	case analysis.OutcomeError:
		return st.Paint("31", "error ")
	}
	return st.Paint("31", "fail  ")
}

// metricValue renders a metric's value, or why there is none.
func metricValue(m analysis.Result) string {
	switch {
	case m.NaN:
		return "NaN"
	case m.Value != nil:
		return formatFloat(*m.Value)
	case m.Outcome == analysis.OutcomeNoData:
		return "no data"
	}
	return "-"
}

// bounds renders the threshold a value was held against.
func bounds(m analysis.Result) string {
	switch {
	case m.Min != nil && m.Max != nil:
		return fmt.Sprintf("[%s, %s]", formatFloat(*m.Min), formatFloat(*m.Max))
	case m.Min != nil:
		return ">= " + formatFloat(*m.Min)
	case m.Max != nil:
		return "<= " + formatFloat(*m.Max)
	}
	return ""
}

// formatFloat renders a value with at most four decimals, trailing zeros dropped.
func formatFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// clockTime renders a virtual offset as mm:ss (h:mm:ss past an hour).
func clockTime(d time.Duration) string {
	s := int(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func decided(r *scenario.Result) string {
	if r.DecidedAt == nil {
		return "-"
	}
	return time.Duration(*r.DecidedAt).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// thousands renders n with comma separators ("1,214").
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
