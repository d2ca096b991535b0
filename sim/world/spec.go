package world

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Defaults of a world (docs/scenario-format.md): what a scenario's world section
// means when it leaves a field out.
const (
	DefaultRPS            = 10.0
	DefaultScrapeInterval = 15 * time.Second
	DefaultP50            = 10 * time.Millisecond
	DefaultP99            = 50 * time.Millisecond
	// AnyVersion is the versions key that applies to every image not listed.
	AnyVersion = "*"
	// SuccessCode is the response code of every request a version's mix leaves.
	SuccessCode = "200"
	// ErrorRateCode is the response code errorRate stands for.
	ErrorRateCode = "500"
)

// codeSumTolerance lets shares written as decimals add up to 1 (0.1 + 0.2 + 0.7).
const codeSumTolerance = 1e-9

// Spec describes a world: traffic, how each version behaves, faults over time, and
// series of the application's own. It is a scenario's spec.world; its YAML keys are a
// public interface.
type Spec struct {
	Seed           int64               `yaml:"seed"`
	ScrapeInterval Duration            `yaml:"scrapeInterval"`
	RPS            *float64            `yaml:"rps"`
	DirectRPS      float64             `yaml:"directRps"`
	MatchFraction  float64             `yaml:"matchFraction"`
	Noise          bool                `yaml:"noise"`
	Versions       map[string]Behavior `yaml:"versions"`
	Faults         []Fault             `yaml:"faults"`
	Counters       []Counter           `yaml:"counters"`
	Series         []RawSeries         `yaml:"series"`
}

// Behavior is how a version serves requests.
type Behavior struct {
	// ErrorRate is the share of requests answered with a 500: a shorthand for
	// Codes {"500": ErrorRate}. At most one of the two is given.
	ErrorRate *float64 `yaml:"errorRate"`
	// Codes are the shares of requests answered with each response code other than
	// 200 ("404": 0.03); the rest is answered with 200.
	Codes   map[string]float64 `yaml:"codes"`
	Latency *Latency           `yaml:"latency"`
}

// Latency is a log-normal latency distribution given by two quantiles; 0 leaves a
// quantile as it is (the default, or the version's own under a fault).
type Latency struct {
	P50 Duration `yaml:"p50"`
	P99 Duration `yaml:"p99"`
}

// Fault overrides behaviour in a window of virtual time. Image "" means every version.
// ErrorRate or Codes (at most one) replace the version's whole mix of response codes.
type Fault struct {
	Image     string             `yaml:"image"`
	From      Duration           `yaml:"from"`
	Until     Duration           `yaml:"until"` // 0 = until the end
	ErrorRate *float64           `yaml:"errorRate"`
	Codes     map[string]float64 `yaml:"codes"`
	Latency   *Latency           `yaml:"latency"`
	RPS       *float64           `yaml:"rps"`
	Ready     *bool              `yaml:"ready"`
}

// Active reports whether the fault's window [from, until) contains at (virtual time
// since the start of the run).
func (f Fault) Active(at time.Duration) bool {
	return at >= f.From.Duration && (f.Until.Duration == 0 || at < f.Until.Duration)
}

// Counter is an application counter incremented per request served, by version.
type Counter struct {
	Name       string             `yaml:"name"`
	PerRequest map[string]float64 `yaml:"perRequest"`
}

// RawSeries is a series in promtool's expanding notation, one sample per scrape.
type RawSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// Duration is a span of virtual time written as a Go duration ("90s", "1m30s"); a
// bare 0 is accepted, a negative one is not. Scenarios use it for every time they
// give.
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string; a bare 0 is accepted.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 30s or 5m", n.Line)
	}
	if n.Value == "0" {
		d.Duration = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q (want a Go duration such as 30s or 5m)", n.Line, n.Value)
	}
	if v < 0 {
		return fmt.Errorf("line %d: duration %q must not be negative", n.Line, n.Value)
	}
	if msg := checkDuration(v); msg != "" {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// FieldError is one problem with a world's values: Path is relative to the world
// ("faults[2].until", `versions["*"].errorRate`), so that a scenario loader can put
// its own prefix and the file's line in front.
type FieldError struct {
	Path string
	Msg  string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks every value of the world, in the order of its fields. It is the one
// set of rules both the scenario loader (which reports each problem at its line) and
// New (which refuses a world built in code) apply. Zero durations mean "the
// default" here; whether a zero was written out is the loader's business.
func (s Spec) Validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	rate := func(path string, v, max float64, lim Limit) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			add(path, "want a non-negative number, got %v", v)
		} else if msg := checkRate(v, max, lim); msg != "" {
			add(path, "%s", msg)
		}
	}
	lists := ListLimits()
	for i, n := range s.listLengths() {
		if msg := lists[i].Check(n); msg != "" {
			add(lists[i].Path, "%s", msg)
		}
	}
	if msg := checkScrapeInterval(s.ScrapeInterval.Duration); msg != "" {
		add("scrapeInterval", "%s", msg)
	}
	fraction := func(path string, v float64) {
		if math.IsNaN(v) || v < 0 || v > 1 {
			add(path, "want a fraction between 0 and 1, got %v", v)
		}
	}
	// codes: the response mix of a version or fault (errorRate, or codes).
	codes := func(path string, errorRate *float64, mix map[string]float64) {
		if errorRate != nil {
			fraction(path+".errorRate", *errorRate)
			if mix != nil {
				add(path+".codes", "give errorRate or codes, not both (errorRate %v is codes: {\"500\": %v})", *errorRate, *errorRate)
			}
		}
		sum := 0.0
		for _, code := range slices.Sorted(maps.Keys(mix)) {
			p := JoinKey(path+".codes", code)
			switch n, err := strconv.Atoi(code); {
			case err != nil || len(code) != 3 || n < 100 || n > 599:
				add(p, "want an HTTP response code between 100 and 599, got %q", code)
			case code == SuccessCode:
				add(p, "leave %s out: it is what the other codes leave (1 minus their sum)", SuccessCode)
			}
			fraction(p, mix[code])
			sum += mix[code]
		}
		if sum > 1+codeSumTolerance {
			add(path+".codes", "the shares add up to %v, more than 1", sum)
		}
	}
	latency := func(path string, lat *Latency) {
		if lat != nil && lat.P50.Duration > 0 && lat.P99.Duration > 0 && lat.P50.Duration > lat.P99.Duration {
			add(path, "p50 %s is above p99 %s", lat.P50.Duration, lat.P99.Duration)
		}
	}
	if s.RPS != nil {
		rate("rps", *s.RPS, MaxRPS, rpsLimit)
	}
	rate("directRps", s.DirectRPS, MaxRPS, rpsLimit)
	fraction("matchFraction", s.MatchFraction)
	for _, img := range slices.Sorted(maps.Keys(s.Versions)) {
		p := JoinKey("versions", img)
		if img == "" {
			add(p, "empty image name (use %q for every other image)", AnyVersion)
		}
		b := s.Versions[img]
		codes(p, b.ErrorRate, b.Codes)
		latency(p+".latency", b.Latency)
	}
	for i, f := range s.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if f.ErrorRate == nil && f.Codes == nil && f.Latency == nil && f.RPS == nil && f.Ready == nil {
			add(p, "a fault must override at least one of errorRate, codes, latency, rps, ready")
		}
		if f.Until.Duration != 0 && f.Until.Duration <= f.From.Duration {
			add(p+".until", "%s is not after from %s (leave until out for a fault that lasts to the end)", f.Until.Duration, f.From.Duration)
		}
		codes(p, f.ErrorRate, f.Codes)
		if f.RPS != nil {
			rate(p+".rps", *f.RPS, MaxRPS, rpsLimit)
		}
		latency(p+".latency", f.Latency)
	}
	counterAt := map[string]int{}
	for i, c := range s.Counters {
		p := fmt.Sprintf("counters[%d]", i)
		if !model.LegacyValidation.IsValidMetricName(c.Name) {
			add(p+".name", "want a Prometheus metric name, got %q", c.Name)
		} else if first, dup := counterAt[c.Name]; dup {
			add(p+".name", "%q is counters[%d]'s name too: both would write the same series of every pod", c.Name, first)
		} else {
			counterAt[c.Name] = i
		}
		for _, img := range slices.Sorted(maps.Keys(c.PerRequest)) {
			rate(JoinKey(p+".perRequest", img), c.PerRequest[img], MaxPerRequest, perRequestLimit)
		}
	}
	// Nothing is expanded unless the list and its samples in all are within bounds.
	if len(s.Series) > MaxSeries {
		return errs
	}
	if n, over := seriesSamples(s.Series); over {
		add("series", "%s", seriesLimit.Msg("the values expand to more than %s samples in all (%s at least)", FormatCount(MaxRawSeriesSamples), FormatCount(n)))
		return errs
	}
	seriesAt := map[string]int{}
	for i, rs := range s.Series {
		p := fmt.Sprintf("series[%d]", i)
		switch {
		case rs.Series == "":
			add(p+".series", "required: a series selector such as 'queue_depth{namespace=\"test\"}'")
		case rs.Values == "":
			add(p+".values", "required: values in promtool's expanding notation such as '0+2x100'")
		default:
			if _, err := parser.ParseMetric(rs.Series); err != nil {
				add(p+".series", "bad series %q: %v", rs.Series, err)
			} else if lset, _, err := ParseRawSeries(rs); err != nil {
				add(p+".values", "bad values %q (want promtool's expanding notation such as '0+2x100'): %v", rs.Values, err)
			} else if first, dup := seriesAt[lset.String()]; dup {
				add(p+".series", "%s is series[%d] too: give each series once", lset, first)
			} else {
				seriesAt[lset.String()] = i
			}
		}
	}
	return errs
}

// validationError joins a world's problems into one error.
func validationError(errs []FieldError) error {
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// ResolveVersions returns the behaviour table with every entry complete: "*" takes
// what it does not give from the built-in default (0 errors, p50 10ms, p99 50ms), and
// every other image what it does not give from "*"; the response mix (errorRate or
// codes) is taken as a whole. The input is not modified.
func ResolveVersions(in map[string]Behavior) map[string]Behavior {
	zero := 0.0
	base := Behavior{ErrorRate: &zero, Latency: &Latency{P50: Duration{DefaultP50}, P99: Duration{DefaultP99}}}
	any := fill(in[AnyVersion], base)
	out := map[string]Behavior{AnyVersion: any}
	for img, b := range in {
		if img != AnyVersion {
			out[img] = fill(b, any)
		}
	}
	return out
}

// fill completes b from def (which is complete): the response mix (errorRate or
// codes) as a whole, each latency quantile on its own.
func fill(b, def Behavior) Behavior {
	out := Behavior{Latency: &Latency{}}
	mix := def
	if b.ErrorRate != nil || b.Codes != nil {
		mix = b
	}
	if mix.ErrorRate != nil {
		v := *mix.ErrorRate
		out.ErrorRate = &v
	}
	if mix.Codes != nil {
		out.Codes = maps.Clone(mix.Codes)
	}
	*out.Latency = *def.Latency
	if b.Latency != nil {
		if b.Latency.P50.Duration > 0 {
			out.Latency.P50 = b.Latency.P50
		}
		if b.Latency.P99.Duration > 0 {
			out.Latency.P99 = b.Latency.P99
		}
		// Keep the distribution valid when only one quantile was given.
		if out.Latency.P50.Duration > out.Latency.P99.Duration {
			if b.Latency.P99.Duration > 0 {
				out.Latency.P50 = out.Latency.P99
			} else {
				out.Latency.P99 = out.Latency.P50
			}
		}
	}
	return out
}

// JoinKey appends a mapping key to a field path: "a.b", or a["podinfo:6.0.1"] for
// keys that are not identifiers.
func JoinKey(path, key string) string {
	if isIdentifier(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// isIdentifier reports whether key matches [A-Za-z_][A-Za-z0-9_-]*.
func isIdentifier(key string) bool {
	for i, r := range key {
		switch {
		case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && (r == '-' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return key != ""
}
