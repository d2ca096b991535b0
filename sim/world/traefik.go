package world

import (
	"strings"
	"unicode"

	"aviary.dev/aviary/sim/promstore"
)

// Traefik's service families. Traefik's Prometheus exporter writes, per service it
// routes to and per response code, method and protocol, a request counter and a
// latency histogram (seconds, buckets 0.1, 0.3, 1.2, 5). Only services that balance
// over servers (a Kubernetes Service, named TraefikServiceLabel) have them, not the
// weighted TraefikService above them. The world writes them for the user requests
// that reach the primary's and the canary's Service through Traefik, from what the
// pods behind each served (every request is a GET over HTTP/1.1). A workload without
// ready pods gets Traefik's answer, 503, at once.
//
// Traefik deletes the series of a service that left its configuration (Flagger took
// it out of the TraefikService) after exporting them once more; they go stale at the
// scrape after that, and start again from 0 if the service comes back.

// The labels Traefik gives every request of the world.
const (
	traefikMethod   = "GET"
	traefikProtocol = "http"
)

// TraefikServiceLabel is the service label Traefik's Kubernetes CRD provider gives
// the Kubernetes Service name of namespace at port (a number or a port name; "" when
// the reference gives none): "<namespace>-<name>-<port>@kubernetescrd", where every
// run of characters that are neither letters nor digits becomes one "-" (Traefik's
// provider.Normalize).
func TraefikServiceLabel(namespace, name, port string) string {
	id := namespace + "-" + name
	if port != "" {
		id += "-" + port
	}
	notAlnum := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }
	return strings.Join(strings.FieldsFunc(id, notAlnum), "-") + "@kubernetescrd"
}

// The series of a Traefik service and response code, in the order of
// traefikCodeSeries.refs: the request counter, the latency histogram's buckets, sum
// and count.
const (
	traefikTotalAt       = 0
	traefikBucketsAt     = traefikTotalAt + 1
	traefikSumAt         = traefikBucketsAt + numTraefikBuckets
	traefikCountAt       = traefikSumAt + 1
	traefikSeriesPerCode = traefikCountAt + 1
)

// traefikService is what Traefik holds for one Service it routes to.
type traefikService struct {
	label string
	// codes[i] is response code Model.codes[i]; nil until first served.
	codes []*traefikCodeSeries
	// routed is the scrape (Model.scrapes) at which Traefik's configuration last
	// routed to the Service.
	routed uint64
}

// The states of a Traefik code series.
const (
	// traefikIdle: nothing to write (never served, or stale).
	traefikIdle = iota
	// traefikLive: written at every scrape.
	traefikLive
	// traefikDeleted: exported once after its service left the configuration, and
	// deleted: written stale at the next scrape.
	traefikDeleted
)

type traefikCodeSeries struct {
	state int
	// zeroAt: write the series at 0 at this instant (ms) first; -1 = done.
	zeroAt int64
	// lastT is the instant (ms) of the last sample written, -1 before the first.
	lastT int64
	// cells[k] is the cumulative count of requests in Traefik cell k.
	cells [numTraefikBuckets]float64
	sumMs float64

	refs  [traefikSeriesPerCode]promstore.SeriesRef
	group promstore.GroupRef
	row   [traefikSeriesPerCode]float64
}

// add counts n requests that took sumMs in all, of which lower are in Traefik cell
// k and the rest in cell k+1.
func (cs *traefikCodeSeries) add(k int, lower, n, sumMs float64) {
	cs.cells[k] += lower
	if n > lower {
		cs.cells[k+1] += n - lower
	}
	cs.sumMs += sumMs
}

// traefikRouted returns the Service whose label Traefik's configuration routes to at
// the scrape in progress (nil for ""), created on first sight.
func (w *Model) traefikRouted(label string) *traefikService {
	if label == "" {
		return nil
	}
	svc := w.traefik[label]
	if svc == nil {
		svc = &traefikService{label: label, codes: make([]*traefikCodeSeries, len(w.codes))}
		w.traefik[label] = svc
		w.traefikActive = append(w.traefikActive, svc)
	}
	svc.routed = w.scrapes
	return svc
}

// traefikCode returns the live series of svc and a code, creating them (or starting
// them again after Traefik deleted them) at 0 at the previous scrape.
func (w *Model) traefikCode(svc *traefikService, code int) *traefikCodeSeries {
	cs := svc.codes[code]
	if cs == nil {
		cs = w.newTraefikCodeSeries(svc.label, code)
		svc.codes[code] = cs
	}
	if cs.state != traefikLive {
		prev, now := w.prev.UnixMilli(), w.scrapeAt.UnixMilli()
		cs.zeroAt = max(prev, cs.lastT+1)
		if cs.zeroAt >= now {
			cs.zeroAt = -1
		}
		cs.state = traefikLive
	}
	return cs
}

// traefikNoServer counts n user requests Traefik answered itself: the Service had no
// ready endpoint.
func (w *Model) traefikNoServer(svc *traefikService, n float64) {
	if n > 0 {
		w.traefikCode(svc, w.codeIndex(noServerCode)).add(0, n, n, 0)
	}
}

func (w *Model) newTraefikCodeSeries(label string, code int) *traefikCodeSeries {
	st := w.cfg.Store
	f := newFamily(
		"code", w.codes[code],
		"method", traefikMethod,
		"protocol", traefikProtocol,
		"service", label,
	)
	cs := &traefikCodeSeries{zeroAt: -1, lastT: -1}
	cs.refs[traefikTotalAt] = st.Ref(f.series(TraefikRequests, ""))
	for k, le := range traefikLe {
		cs.refs[traefikBucketsAt+k] = st.Ref(f.series(TraefikDuration+"_bucket", le))
	}
	cs.refs[traefikSumAt] = st.Ref(f.series(TraefikDuration+"_sum", ""))
	cs.refs[traefikCountAt] = st.Ref(f.series(TraefikDuration+"_count", ""))
	w.ownSeries(cs.refs[:]...)
	if g, err := st.NewGroup(cs.refs[:]); err == nil {
		cs.group = g
	}
	return cs
}

// writeTraefik adds the Traefik series' samples at t (ms) to the batch: live series,
// then deleted once if their service is no longer routed to; stale markers for those
// deleted at the previous scrape.
func (w *Model) writeTraefik(t int64) {
	b := &w.batch
	for _, svc := range w.traefikActive {
		routed := svc.routed == w.scrapes
		for _, cs := range svc.codes {
			if cs == nil {
				continue
			}
			switch cs.state {
			case traefikLive:
				cs.write(b, t)
				if !routed {
					cs.state = traefikDeleted
					cs.cells, cs.sumMs = [numTraefikBuckets]float64{}, 0
				}
			case traefikDeleted:
				b.addRow(cs.group, cs.refs[:], t, b.stale[:traefikSeriesPerCode])
				cs.lastT = t
				cs.state = traefikIdle
			}
		}
	}
}

// write adds the series' current cumulative values at t (ms) to b, preceded by their
// zeros when they just appeared.
func (cs *traefikCodeSeries) write(b *scrapeBatch, t int64) {
	if cs.zeroAt >= 0 {
		b.addRow(cs.group, cs.refs[:], cs.zeroAt, b.zeros[:traefikSeriesPerCode])
		cs.zeroAt = -1
	}
	total := 0.0
	for k, x := range cs.cells {
		total += x
		cs.row[traefikBucketsAt+k] = total
	}
	cs.row[traefikTotalAt] = total
	cs.row[traefikSumAt] = cs.sumMs / 1000
	cs.row[traefikCountAt] = total
	b.addRow(cs.group, cs.refs[:], t, cs.row[:])
	cs.lastT = t
}
