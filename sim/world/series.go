package world

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ParseRawSeries parses a scenario series written in promtool's expanding notation
// (`queue_depth{namespace="test"}` with values `0+2x100`, `1 _x3 stale`, `NaN`, `Inf`)
// with Prometheus' own parser, the one promtool test files and promqltest `load` blocks
// use. Native-histogram values (`{{...}}`) are rejected: the simulator stores floats.
func ParseRawSeries(s RawSeries) (labels.Labels, []parser.SequenceValue, error) {
	series := strings.TrimSpace(s.Series)
	fail := func(format string, args ...any) (labels.Labels, []parser.SequenceValue, error) {
		return labels.EmptyLabels(), nil, fmt.Errorf("series %q values %q: %s", s.Series, s.Values, fmt.Sprintf(format, args...))
	}
	if series == "" {
		return fail("series is empty (want a metric name and labels, e.g. queue_depth{namespace=\"test\"})")
	}
	input := rawSeriesInput(s)
	if n, over := expansionCount(input); over {
		return fail("values expand to more than %d samples", MaxRawSeriesSamples)
	} else if n < 0 {
		return fail("values expand to a negative number of samples")
	}
	lset, vals, err := parser.ParseSeriesDesc(input)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "invalid series description"
		}
		return fail("%s (parsed as %q)", msg, input)
	}
	if lset.IsEmpty() {
		return fail("series has no labels")
	}
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return fail("duplicate label name %q", name)
	}
	if len(vals) == 0 {
		return fail("no values (want e.g. 0+2x100 or `1 _x3 stale`)")
	}
	if len(vals) > MaxRawSeriesSamples {
		return fail("values expand to %d samples, more than %d", len(vals), MaxRawSeriesSamples)
	}
	for i, v := range vals {
		if v.Histogram != nil {
			return fail("sample %d is a native histogram; the simulator stores float samples only", i)
		}
	}
	return lset, vals, nil
}

// rawSeriesInput is the series description Prometheus' parser reads: the series,
// then its values.
func rawSeriesInput(s RawSeries) string {
	series, values := strings.TrimSpace(s.Series), strings.TrimSpace(s.Values)
	if values == "" {
		return series
	}
	return series + " " + values
}

// seriesSamples adds up the expansion counts of every series (an upper bound of the
// samples they expand to, but for one per value written); over is true once the sum
// passes MaxRawSeriesSamples, and n is then the sum so far.
func seriesSamples(all []RawSeries) (n int, over bool) {
	for _, s := range all {
		c, o := expansionCount(rawSeriesInput(s))
		n += c
		if o || n > MaxRawSeriesSamples {
			return n, true
		}
	}
	return n, false
}

// expansionCount adds up the repetition counts (the N of `xN`) outside quoted strings,
// a cheap upper bound of the samples the parser would allocate. over is true once the
// sum passes MaxRawSeriesSamples. Counts written in a metric or label name
// ("max123") are added too, which can only make the bound larger.
func expansionCount(input string) (n int, over bool) {
	var quote byte
	for i := 0; i < len(input); i++ {
		c := input[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == 'x':
			count := 0
			for i+1 < len(input) && input[i+1] >= '0' && input[i+1] <= '9' {
				i++
				count = count*10 + int(input[i]-'0')
				if count > MaxRawSeriesSamples {
					return n + count, true // a lower bound: the digits read so far
				}
			}
			n += count
			if n > MaxRawSeriesSamples {
				return n, true
			}
		}
	}
	return n, false
}

// ExpandedSeries is a parsed scenario series: one value per scrape, sample i being
// written at the i-th scrape of the run (t = i × scrapeInterval from the run start).
type ExpandedSeries struct {
	Labels labels.Labels
	Values []parser.SequenceValue
}

// ExpandRawSeries parses s (see ParseRawSeries).
func ExpandRawSeries(s RawSeries) (ExpandedSeries, error) {
	lset, vals, err := ParseRawSeries(s)
	if err != nil {
		return ExpandedSeries{}, err
	}
	return ExpandedSeries{Labels: lset, Values: vals}, nil
}

// Len is the number of scrapes the series describes (omitted ones included).
func (e ExpandedSeries) Len() int { return len(e.Values) }

// At returns the value to write at scrape i (0-based). omitted is true when nothing is
// written: the value is `_`, or i is before the first or past the last value. A `stale`
// value is returned as value.StaleNaN, which is written like any other sample.
func (e ExpandedSeries) At(i int) (value float64, omitted bool) {
	if i < 0 || i >= len(e.Values) || e.Values[i].Omitted {
		return 0, true
	}
	return e.Values[i].Value, false
}
