package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// Tool is the "tool" field of a results document.
const Tool = "aviary"

// Document is the stable JSON results format written by WriteJSON ("aviary test
// --json FILE") and read by ReadJSON ("aviary report FILE"):
//
//	{
//	  "formatVersion": 2,          // scenario.ResultFormatVersion; bumped on any incompatible change
//	  "tool": "aviary",
//	  "results": [ <scenario.Result>, ... ]   // one per scenario, in suite order
//	}
//
// Each result is the full run record (see scenario.Result, scenario.Tick,
// engine.TickRecord and analysis.Result for the field meanings): scenario,
// description, file, mode, warnings, ticks (time, phases, step, weights, failed
// checks, metrics with their resolved query, value, NaN flag, bounds and outcome,
// webhook calls, route changes, events, alerts, error; a record that stands for
// several evenly spaced ticks with the same record says how many more and how far
// apart: repeat, every), exposure (per tick record, the user requests each workload
// served since the previous record and the canary's share of them), baselines
// (when the run evaluated them: each check's query against the primary), final
// phase, decidedAt and until (Go durations since virtual time zero), routes,
// maxCanaryWeight, traffic per version, failedUserRequests, expectations (name,
// expected, observed, ok) and passed.
//
// Compatible additions (new fields) keep the version, so readers must ignore fields
// they do not know. JSON has no infinities: a metric value (or bound) of +Inf or
// -Inf is written as ±1.7976931348623157e308 (the largest float64) and read back
// as ±Inf.
type Document struct {
	FormatVersion int                `json:"formatVersion"`
	Tool          string             `json:"tool"`
	Results       []*scenario.Result `json:"results"`
}

// WriteJSON writes results as a results Document, indented, with a trailing
// newline. The output depends only on results: the same results give the same
// bytes.
func WriteJSON(w io.Writer, results []*scenario.Result) error {
	doc := Document{FormatVersion: scenario.ResultFormatVersion, Tool: Tool, Results: make([]*scenario.Result, len(results))}
	for i, r := range results {
		doc.Results[i] = finiteCopy(r)
	}
	if doc.Results == nil {
		doc.Results = []*scenario.Result{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadJSON reads a results Document written by WriteJSON. It rejects input that is
// not JSON, is not a results document, or has a formatVersion this aviary does
// not read.
func ReadJSON(r io.Reader) ([]*scenario.Result, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var head struct {
		FormatVersion *int            `json:"formatVersion"`
		Tool          string          `json:"tool"`
		Results       json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not an aviary results file: %s", jsonErrorText(data, err))
	}
	if head.FormatVersion == nil {
		return nil, errors.New(`not an aviary results file: no "formatVersion" field (write one with "aviary test --json FILE")`)
	}
	// Version 1 is version 2 without repeated ticks (scenario.Tick), so it reads as is.
	if v := *head.FormatVersion; v < 1 || v > scenario.ResultFormatVersion {
		return nil, fmt.Errorf("results formatVersion %d is not supported: this aviary reads formatVersion 1 to %d",
			v, scenario.ResultFormatVersion)
	}
	if head.Tool != "" && head.Tool != Tool {
		return nil, fmt.Errorf("not an aviary results file: tool is %q, want %q", head.Tool, Tool)
	}
	if len(head.Results) == 0 || string(head.Results) == "null" {
		return nil, errors.New(`not an aviary results file: no "results" list`)
	}
	var results []*scenario.Result
	if err := json.Unmarshal(head.Results, &results); err != nil {
		return nil, fmt.Errorf("results: %s", jsonErrorText(head.Results, err))
	}
	for i, res := range results {
		if res == nil {
			return nil, fmt.Errorf("results[%d] is null", i)
		}
		restoreInfinities(res)
	}
	return results, nil
}

// jsonErrorText names the line and column of a syntax error.
func jsonErrorText(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, se.Offset-1)
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	return err.Error()
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:offset] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// finiteCopy returns r, or a copy of it whose infinite metric values and bounds are
// replaced by ±math.MaxFloat64 (encoding/json rejects infinities).
func finiteCopy(r *scenario.Result) *scenario.Result {
	if r == nil || !hasInfinity(r) {
		return r
	}
	c := *r
	c.Baselines = append([]scenario.Baseline(nil), r.Baselines...)
	for i := range c.Baselines {
		c.Baselines[i].Value = clampInf(c.Baselines[i].Value)
	}
	c.Ticks = make([]scenario.Tick, len(r.Ticks))
	for i, t := range r.Ticks {
		t.Metrics = append([]analysis.Result(nil), t.Metrics...)
		for j := range t.Metrics {
			m := &t.Metrics[j]
			m.Value, m.Min, m.Max = clampInf(m.Value), clampInf(m.Min), clampInf(m.Max)
		}
		c.Ticks[i] = t
	}
	return &c
}

func hasInfinity(r *scenario.Result) bool {
	for _, b := range r.Baselines {
		if b.Value != nil && math.IsInf(*b.Value, 0) {
			return true
		}
	}
	for _, t := range r.Ticks {
		for _, m := range t.Metrics {
			for _, p := range []*float64{m.Value, m.Min, m.Max} {
				if p != nil && math.IsInf(*p, 0) {
					return true
				}
			}
		}
	}
	return false
}

func clampInf(p *float64) *float64 {
	if p == nil || !math.IsInf(*p, 0) {
		return p
	}
	v := math.MaxFloat64
	if *p < 0 {
		v = -v
	}
	return &v
}

// restoreInfinities undoes clampInf.
func restoreInfinities(r *scenario.Result) {
	for i := range r.Baselines {
		if p := r.Baselines[i].Value; p != nil && math.Abs(*p) == math.MaxFloat64 {
			*p = math.Inf(int(math.Copysign(1, *p)))
		}
	}
	for i := range r.Ticks {
		for j := range r.Ticks[i].Metrics {
			m := &r.Ticks[i].Metrics[j]
			for _, p := range []*float64{m.Value, m.Min, m.Max} {
				if p != nil && math.Abs(*p) == math.MaxFloat64 {
					*p = math.Inf(int(math.Copysign(1, *p)))
				}
			}
		}
	}
}
