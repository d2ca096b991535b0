package world

import (
	"fmt"
	"time"
)

// The world's limits (README "Limits", docs/scenario-format.md): each bound on what a
// world may ask of a run is here once, with why; Spec.Validate and Duration's parser
// apply them, and Limits lists them for the docs.
const (
	// MaxDuration bounds every duration of a scenario: spec.until is at most a year of
	// virtual time, and nothing in a run lies beyond its end.
	MaxDuration = 365 * 24 * time.Hour
	// MinScrapeInterval is the shortest scrape interval.
	MinScrapeInterval = time.Second
	// MaxRPS bounds every request rate (rps, directRps, faults[].rps).
	MaxRPS = 1e6
	// MaxPerRequest bounds what a counter adds per request.
	MaxPerRequest = 1e6
	// MaxFaults, MaxCounters and MaxSeries bound the world's lists.
	MaxFaults   = 100
	MaxCounters = 100
	MaxSeries   = 100
	// MaxRawSeriesSamples bounds the samples the world's series expand to, all of them
	// together (`0+1x100000000` would otherwise allocate gigabytes before anything
	// could refuse it). A 24-hour run scraped every second needs 86,400 a series.
	MaxRawSeriesSamples = 1_000_000
)

// SeriesPerResponseCode is how many series a pod writes for each response code it
// answers with: Istio's request total and latency histogram, and the Prometheus
// client's latency histogram.
const SeriesPerResponseCode = seriesPerCode

// A Limit is one documented bound: the field it applies to (relative to the world
// here, to the scenario in scenario.Limits), its range as the docs state it, and why.
// The README's "Limits" table is these rows, and the checks' messages quote Why.
type Limit struct {
	Field, Range, Why string
}

// Msg is a problem with a value beyond the limit: what is wrong, and in parentheses
// why the limit is there.
func (l Limit) Msg(format string, args ...any) string {
	return fmt.Sprintf(format, args...) + " (" + l.Why + ")"
}

// durationLimit bounds every duration of a scenario, the world's and the scenario's
// alike (Duration's parser applies it).
var durationLimit = Limit{
	Field: "every duration",
	Range: fmt.Sprintf("0 to %s (one year)", FormatDuration(MaxDuration)),
	Why:   "a run lasts at most a year of virtual time (spec.until), and nothing in it lies beyond its end",
}

var (
	scrapeIntervalLimit = Limit{
		Field: "scrapeInterval",
		Range: fmt.Sprintf("%s or more, in whole milliseconds (%s)", FormatDuration(MinScrapeInterval), FormatDuration(DefaultScrapeInterval)),
		Why:   "Prometheus keeps millisecond timestamps and is configured in seconds; every scrape serves and writes every pod",
	}
	rpsLimit = Limit{
		Field: "rps, directRps, faults[].rps",
		Range: fmt.Sprintf("0 to %s requests per second", FormatCount(MaxRPS)),
		Why:   "a rate costs no work, but counts must stay exact in float64 (below 2^53): a million a second for a year is 3.2e13",
	}
	perRequestLimit = Limit{
		Field: "counters[].perRequest",
		Range: fmt.Sprintf("0 to %s", FormatCount(MaxPerRequest)),
		Why:   "a megabyte a request is plenty, and a counter must stay finite over the longest run",
	}
	faultsLimit = Limit{
		Field: "faults",
		Range: fmt.Sprintf("at most %d", MaxFaults),
		Why:   "every scrape looks at every fault window",
	}
	countersLimit = Limit{
		Field: "counters",
		Range: fmt.Sprintf("at most %d", MaxCounters),
		Why:   "each is a series on every pod, written at every scrape",
	}
	seriesLimit = Limit{
		Field: "series",
		Range: fmt.Sprintf("at most %d, of at most %s samples in all", MaxSeries, FormatCount(MaxRawSeriesSamples)),
		Why:   "they are expanded before the run and held in memory (24 bytes a sample); a day of 1s scrapes needs 86,400 a series",
	}
)

// DurationLimit is the bound on every duration of a scenario.
func DurationLimit() Limit { return durationLimit }

// Limits are the bounds on the world's fields, relative to the world (DurationLimit
// aside).
func Limits() []Limit {
	return []Limit{scrapeIntervalLimit, rpsLimit, perRequestLimit, faultsLimit, countersLimit, seriesLimit}
}

// ListLimit is a bound on the length of one of the world's lists, for a loader that
// checks lengths before it decodes the lists (ListLimits); Validate applies the same.
type ListLimit struct {
	// Path is the list's field path, relative to the world.
	Path  string
	Max   int
	Limit Limit
}

// Check returns the problem with a list of n entries, "" when there is none.
func (l ListLimit) Check(n int) string {
	if n <= l.Max {
		return ""
	}
	return l.Limit.Msg("%d entries, more than %d", n, l.Max)
}

// ListLimits are the bounds on the lengths of the world's lists.
func ListLimits() []ListLimit {
	return []ListLimit{{"faults", MaxFaults, faultsLimit}, {"counters", MaxCounters, countersLimit}, {"series", MaxSeries, seriesLimit}}
}

// listLengths are the lengths of the lists of ListLimits, in their order.
func (s Spec) listLengths() []int { return []int{len(s.Faults), len(s.Counters), len(s.Series)} }

// checkDuration is the rule every written duration follows.
func checkDuration(d time.Duration) string {
	if d > MaxDuration {
		return durationLimit.Msg("%s is longer than %s", FormatDuration(d), FormatDuration(MaxDuration))
	}
	return ""
}

// checkScrapeInterval is scrapeInterval's rule; 0 means the default.
func checkScrapeInterval(d time.Duration) string {
	switch {
	case d < 0:
		return fmt.Sprintf("must be positive (default %s)", DefaultScrapeInterval)
	case d != 0 && d < MinScrapeInterval:
		return scrapeIntervalLimit.Msg("%s is below %s", d, FormatDuration(MinScrapeInterval))
	case d%time.Millisecond != 0:
		return scrapeIntervalLimit.Msg("%s is not a whole number of milliseconds", d)
	}
	return ""
}

// checkRate is the rule of a request rate (rps) or a per-request increment.
func checkRate(v, max float64, lim Limit) string {
	if v > max {
		return lim.Msg("%v is more than %s", v, FormatCount(max))
	}
	return ""
}

// responseCodeCount is how many response codes a pod of this world may answer with:
// 200, and every code of a version's or fault's mix with a share above 0.
func (s Spec) responseCodeCount() int {
	set := map[string]bool{SuccessCode: true}
	add := func(errorRate *float64, codes map[string]float64) {
		if errorRate != nil && *errorRate > 0 {
			set[ErrorRateCode] = true
		}
		for c, share := range codes {
			if share > 0 {
				set[c] = true
			}
		}
	}
	for _, b := range s.Versions {
		add(b.ErrorRate, b.Codes)
	}
	for _, f := range s.Faults {
		add(f.ErrorRate, f.Codes)
	}
	return len(set)
}

// SeriesPerPod is the most series one pod of this world writes:
// SeriesPerResponseCode for each response code it may answer with (200, and every
// code of a version's or fault's mix with a share above 0), and one per counter.
func (s Spec) SeriesPerPod() int {
	return SeriesPerResponseCode*s.responseCodeCount() + len(s.Counters)
}

// FormatDuration writes a duration as a scenario would: "60m", "8760h", "15s"
// (hours above one hour, minutes up to it).
func FormatDuration(d time.Duration) string {
	switch {
	case d > time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// FormatCount writes a number with thousands separators ("1,000,000").
func FormatCount[N int | int64 | float64](n N) string {
	s := fmt.Sprintf("%.0f", float64(n))
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}
