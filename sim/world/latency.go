package world

import (
	"math"
	"strconv"
	"time"
)

// z99 is the 0.99 quantile of the standard normal distribution.
const z99 = 2.326347874

// IstioDurationBucketsMs are the upper bounds (le, milliseconds) of Istio's default
// istio_request_duration_milliseconds histogram, +Inf last.
var IstioDurationBucketsMs = []float64{
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
	300000, 600000, 1800000, 3600000, math.Inf(1),
}

// HTTPDurationBucketsSeconds are the upper bounds (le, seconds) of the Prometheus Go
// client's default histogram buckets (prometheus.DefBuckets), used by app-instrumented
// http_request_duration_seconds, +Inf last.
var HTTPDurationBucketsSeconds = []float64{
	.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1),
}

// TraefikDurationBucketsSeconds are the upper bounds (le, seconds) of Traefik's
// default traefik_service_request_duration_seconds histogram (its Prometheus
// exporter's buckets 0.1, 0.3, 1.2, 5), +Inf last.
var TraefikDurationBucketsSeconds = []float64{0.1, 0.3, 1.2, 5, math.Inf(1)}

// FormatLe renders a bucket bound as the Prometheus client writes the le label
// (strconv 'g' shortest: "0.5", "1", "1.8e+06", "+Inf").
func FormatLe(le float64) string {
	if math.IsInf(le, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(le, 'g', -1, 64)
}

// LogNormal is a latency distribution, in milliseconds, whose logarithm is normal with
// mean Mu and standard deviation Sigma. Sigma == 0 is the degenerate distribution with
// every request at exactly P50.
type LogNormal struct {
	Mu, Sigma float64
	// P50 is the median in milliseconds.
	P50 float64
}

// FitLogNormal fits a log-normal to a median and a 99th percentile:
// mu = ln p50, sigma = (ln p99 - ln p50) / z0.99. When p99 <= p50 (or p50 <= 0) the
// result is degenerate: all requests take p50.
func FitLogNormal(p50, p99 time.Duration) LogNormal {
	m50 := durationMs(p50)
	m99 := durationMs(p99)
	if m50 <= 0 {
		return LogNormal{}
	}
	if m99 <= m50 {
		return LogNormal{Mu: math.Log(m50), P50: m50}
	}
	mu := math.Log(m50)
	return LogNormal{Mu: mu, Sigma: (math.Log(m99) - mu) / z99, P50: m50}
}

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Degenerate reports whether every request takes exactly P50.
func (d LogNormal) Degenerate() bool { return d.Sigma <= 0 }

// CDF returns P(X <= ms).
func (d LogNormal) CDF(ms float64) float64 {
	if math.IsInf(ms, 1) {
		return 1
	}
	if d.Degenerate() {
		if ms >= d.P50 {
			return 1
		}
		return 0
	}
	if ms <= 0 {
		return 0
	}
	return stdNormalCDF((math.Log(ms) - d.Mu) / d.Sigma)
}

// Quantile returns the q-quantile in milliseconds (0 < q < 1).
func (d LogNormal) Quantile(q float64) float64 {
	if d.Degenerate() {
		return d.P50
	}
	return math.Exp(d.Mu + d.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// Mean returns E[X] in milliseconds.
func (d LogNormal) Mean() float64 {
	if d.Degenerate() {
		return d.P50
	}
	return math.Exp(d.Mu + d.Sigma*d.Sigma/2)
}

// partialMean returns E[X; lo < X <= hi] in milliseconds.
func (d LogNormal) partialMean(lo, hi float64) float64 {
	if d.Degenerate() {
		if d.P50 > lo && d.P50 <= hi {
			return d.P50
		}
		return 0
	}
	s2 := d.Sigma * d.Sigma
	shifted := func(x float64) float64 {
		switch {
		case x <= 0:
			return 0
		case math.IsInf(x, 1):
			return 1
		}
		return stdNormalCDF((math.Log(x) - d.Mu - s2) / d.Sigma)
	}
	return math.Exp(d.Mu+s2/2) * (shifted(hi) - shifted(lo))
}

func stdNormalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// latencyProfile is a LogNormal precomputed over Istio's buckets, the finest partition
// both pod histograms use (every HTTP bucket bound, in ms, is an Istio bound).
// Traefik's bounds 300 ms and 1.2 s fall inside Istio cells: traefikBelow splits them.
type latencyProfile struct {
	dist LogNormal
	// cell[i] is P(le[i-1] < X <= le[i]) for the Istio bounds (le[-1] = 0).
	cell [len(istioBounds)]float64
	// cellMean[i] is E[X | X in cell i] in ms (0 for an empty cell).
	cellMean [len(istioBounds)]float64
	// traefikBelow[i] is the share of cell i's mass in Traefik cell traefikCellOf[i];
	// the rest is in the next one (1 for a cell no Traefik bound splits).
	traefikBelow [len(istioBounds)]float64
}

// istioBounds and httpBounds are private copies of the bucket tables (the exported
// slices could be modified by a caller).
var (
	istioBounds = [...]float64{
		0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
		300000, 600000, 1800000, 3600000, math.Inf(1),
	}
	httpBounds    = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1)}
	traefikBounds = [...]float64{0.1, 0.3, 1.2, 5, math.Inf(1)}
)

const (
	numIstioBuckets   = len(istioBounds)
	numHTTPBuckets    = len(httpBounds)
	numTraefikBuckets = len(traefikBounds)
)

// istioLe, httpLe and traefikLe are the bounds as `le` label values.
var istioLe, httpLe, traefikLe = func() (istio [numIstioBuckets]string, http [numHTTPBuckets]string, traefik [numTraefikBuckets]string) {
	for i, le := range istioBounds {
		istio[i] = FormatLe(le)
	}
	for j, le := range httpBounds {
		http[j] = FormatLe(le)
	}
	for k, le := range traefikBounds {
		traefik[k] = FormatLe(le)
	}
	return istio, http, traefik
}()

// traefikCellOf[i] is the Traefik cell (k: le[k-1] < X <= le[k], seconds) holding
// the lower end of Istio cell i; traefikSplitAt[i] is the Traefik bound (ms) inside
// Istio cell i, above which its mass is in the next Traefik cell, or 0 for none.
var traefikCellOf, traefikSplitAt = func() (cellOf [numIstioBuckets]int, splitAt [numIstioBuckets]float64) {
	lo := 0.0
	for i, hi := range istioBounds {
		k := 0
		for traefikBounds[k]*1000 <= lo {
			k++
		}
		cellOf[i] = k
		if t := traefikBounds[k] * 1000; t < hi {
			splitAt[i] = t
			if k+1 < numTraefikBuckets && traefikBounds[k+1]*1000 < hi {
				panic("sim: two Traefik bucket bounds inside one Istio cell")
			}
		}
		lo = hi
	}
	return cellOf, splitAt
}()

// httpCellEnd[j] is the index of the Istio bound equal to the j-th HTTP bound (in ms):
// HTTP bucket j counts the Istio cells 0..httpCellEnd[j].
var httpCellEnd = func() [numHTTPBuckets]int {
	var out [numHTTPBuckets]int
	for j, s := range httpBounds {
		ms := s * 1000
		found := -1
		for i, b := range istioBounds {
			if b == ms || math.Abs(b-ms) < 1e-9 {
				found = i
				break
			}
		}
		if found < 0 {
			panic("sim: HTTP bucket bound " + FormatLe(s) + "s is not an Istio bound")
		}
		out[j] = found
	}
	return out
}()

func newLatencyProfile(p50, p99 time.Duration) *latencyProfile {
	p := &latencyProfile{dist: FitLogNormal(p50, p99)}
	prevCDF, prevLe := 0.0, 0.0
	for i, le := range istioBounds {
		c := p.dist.CDF(le)
		mass := c - prevCDF
		if mass < 0 {
			mass = 0
		}
		p.cell[i] = mass
		p.traefikBelow[i] = 1
		if mass > 0 {
			p.cellMean[i] = p.dist.partialMean(prevLe, le) / mass
			if t := traefikSplitAt[i]; t > 0 {
				p.traefikBelow[i] = min(1, max(0, (p.dist.CDF(t)-prevCDF)/mass))
			}
		}
		prevCDF, prevLe = c, le
	}
	return p
}

type latencyKey struct{ p50, p99 time.Duration }

// latencyCache memoises latency profiles by (p50, p99). Not safe for concurrent use.
type latencyCache map[latencyKey]*latencyProfile

func (c latencyCache) get(p50, p99 time.Duration) *latencyProfile {
	k := latencyKey{p50, p99}
	if p, ok := c[k]; ok {
		return p
	}
	p := newLatencyProfile(p50, p99)
	c[k] = p
	return p
}
