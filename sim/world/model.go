package world

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"aviary.dev/aviary/sim/promstore"
)

// Istio's ingress gateway as the source of user traffic.
const (
	istioSourceWorkload          = "istio-ingressgateway"
	istioSourceWorkloadNamespace = "istio-system"
)

// Routing is how the mesh splits traffic at a scrape, as the runner read it from the
// router (the Istio VirtualService, the Traefik TraefikService).
type Routing struct {
	// PrimaryWeight and CanaryWeight split the default route, as shares of
	// WeightTotal.
	PrimaryWeight, CanaryWeight int
	// WeightTotal is what the weights are shares of: 0 means 100 (Istio's
	// percentages); a weighted round robin (Traefik's) divides by the sum of its
	// weights, which need not be 100.
	WeightTotal int
	// TraefikPrimary and TraefikCanary, when not "", are the service label Traefik
	// gives the primary's and the canary's Kubernetes Service (TraefikServiceLabel):
	// the Services Traefik's configuration routes user traffic to. Traefik writes its
	// service families for each (see traefik.go).
	TraefikPrimary, TraefikCanary string
	// Mirrored: MirrorPercent of the default route's requests are also copied to the
	// canary (set 100 when the VirtualService has no mirrorPercentage, Istio's default).
	Mirrored      bool
	MirrorPercent int
	// HasMatch: an A/B match route exists; spec.matchFraction of the user requests
	// follow it and its weights, the rest the default route.
	HasMatch                              bool
	MatchPrimaryWeight, MatchCanaryWeight int
}

// Config configures a Model.
type Config struct {
	// Spec is the world; Validate must accept it.
	Spec Spec
	// Namespace of the workloads; Target is the Canary's targetRef name (workloads
	// <Target>-primary and <Target>); Service is the apex service name.
	Namespace, Target, Service string
	// InitialImage is the target's image at the start; every other image is "new".
	InitialImage string
	// Start is virtual time zero of the run.
	Start time.Time
	// Store receives the samples.
	Store *promstore.Storage
	// Pods provides the pods of both workloads as of the scrape's instant.
	Pods Pods
	// Routes reads the current routing; nil = everything to the primary.
	Routes func(ctx context.Context) (Routing, error)
}

// Pod is a pod as the world sees it: a unit that serves traffic and writes series.
type Pod struct {
	Name       string
	Deployment string
	// Image is the image of the pod's first container: the version it runs.
	Image string
	Ready bool
	// Started is when the pod was created (virtual time).
	Started time.Time
}

// Pods tells the world which pods a workload has. The world does not know where
// they come from (in a run, the cluster side's Deployment simulator).
type Pods interface {
	// AppendPods appends the current pods of workload to buf, in creation order;
	// image is the workload's pod template image, known false for a workload that
	// does not exist (yet).
	AppendPods(buf []Pod, workload string) (pods []Pod, image string, known bool)
}

// Model turns traffic into series (docs/architecture.md#one-run): each Scrape computes the requests
// every pod of <target>-primary and <target> served since the previous scrape, from the
// routing, the versions' behaviour and the active faults, and writes cumulative
// counters and histograms with Istio's and app-instrumented label sets per pod and
// response code (and Traefik's per Service, when Traefik routes: traefik.go), the
// scenario's application counters and raw series. It also counts what each version served to users
// (the blast radius). Not safe for concurrent use.
type Model struct {
	cfg      Config
	spec     Spec
	rps      float64
	interval time.Duration
	rng      *rand.Rand // nil: exact expected values

	faults     []Fault
	faultFrom  []time.Time
	faultUntil []time.Time // zero: open-ended
	boundaries []time.Time // sorted fault window edges
	latency    latencyCache

	raw     []rawSeriesRef
	rawNext int
	// rawAt is the index of each raw series by its ref; clash is the first raw series
	// the world writes too (ownSeries), -1 while there is none.
	rawAt map[promstore.SeriesRef]int
	clash int

	svcFQDN     string
	primaryName string
	canaryName  string

	// codes are the response codes any version or fault can answer with (mix
	// entries and series point into it by index), sorted; mixes are the precomputed
	// response mixes of the versions and faults (see mixOf).
	codes      []string
	okCode     int
	versionMix map[string]mix
	faultMix   []mix
	defaultMix mix

	pods   map[string]*podSeries
	active []*podSeries
	// traefik holds the series Traefik writes per Service, by service label, in
	// order of first appearance (traefik.go).
	traefik       map[string]*traefikService
	traefikActive []*traefikService
	// traefikPrimary and traefikCanary are the Services Traefik routes to at the
	// scrape in progress (nil: none).
	traefikPrimary, traefikCanary *traefikService

	scrapes  uint64
	prev     time.Time // the previous scrape (Start before the first)
	scrapeAt time.Time // the scrape in progress

	traffic      []VersionTraffic
	trafficIndex map[string]int
	exposure     Exposure

	// scratch buffers reused across scrapes
	podBuf []Pod
	// batch holds a scrape's samples until they are appended together.
	batch    scrapeBatch
	units    []unit
	behavBuf []resolvedBehaviour
}

type rawSeriesRef struct {
	ref    promstore.SeriesRef
	series ExpandedSeries
}

// podSeries holds one pod's cumulative values and its series handles.
type podSeries struct {
	name     string
	workload string
	image    string
	// codes[i] is response code Model.codes[i]; nil until the pod served that code
	// (200 exists from the pod's start).
	codes    []*codeSeries
	counters []counterSeries
	// countersZeroAt: write the counters at 0 at this instant (ms) first; -1 = done.
	countersZeroAt int64
	started        time.Time
	seen           uint64
}

// The series of a pod and response code, in the order of codeSeries.refs and of the
// values of their rows: Istio's request total, its latency histogram's buckets, sum
// and count (ms), then the HTTP latency histogram's buckets, sum and count (seconds).
const (
	istioTotalAt   = 0
	istioBucketsAt = istioTotalAt + 1
	istioSumAt     = istioBucketsAt + numIstioBuckets
	istioCountAt   = istioSumAt + 1
	httpBucketsAt  = istioCountAt + 1
	httpSumAt      = httpBucketsAt + numHTTPBuckets
	httpCountAt    = httpSumAt + 1
	seriesPerCode  = httpCountAt + 1
)

type codeSeries struct {
	// zeroAt: write every series of this code at 0 at this instant (ms) first, so that
	// the counters start from 0 where the series appeared; -1 = done.
	zeroAt int64
	// cells[i] is the cumulative count of requests whose latency fell in Istio cell i.
	cells [numIstioBuckets]float64
	sumMs float64

	refs [seriesPerCode]promstore.SeriesRef
	// group is the store's group of refs, appended a row at a time; 0 when the series
	// could not form one (one of them existed already outside such a group, as a raw
	// series with the same labels would) and are appended one by one.
	group promstore.GroupRef
	// row holds the values of the scrape in progress.
	row [seriesPerCode]float64
}

type counterSeries struct {
	ref        promstore.SeriesRef
	perRequest float64
	value      float64
}

// unit is traffic to one ready pod, or (pod == nil) to a workload without ready pods.
type unit struct {
	pod   *podSeries
	image string
	// traefik is the Service Traefik sends the unit's user requests through (nil:
	// none; then the mesh's routing is not Traefik's).
	traefik              *traefikService
	user, mirror, direct float64 // requests per second
	// canary: the unit is the canary workload's (<target>), else the primary's.
	canary bool
}

type resolvedBehaviour struct {
	image   string
	mix     mix
	profile *latencyProfile
	rps     float64
	hasRPS  bool
}

// mix is how a version answers: a share per response code, 200 (what the other
// codes leave) first, then the others in the order of Model.codes; the order in
// which counts are drawn under noise.
type mix []codeShare

type codeShare struct {
	code  int // index into Model.codes
	share float64
	// failed: a 5xx, a failed request for the blast radius (as for Flagger's
	// success rate, which counts non-5xx as successes).
	failed bool
}

// New validates the configuration (Spec.Validate) and prepares the series that do
// not depend on pods (raw series).
func New(cfg Config) (*Model, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("world: no store")
	case cfg.Pods == nil:
		return nil, errors.New("world: no pods")
	case cfg.Target == "":
		return nil, errors.New("world: no target")
	}
	if errs := cfg.Spec.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("world: %w", validationError(errs))
	}
	if cfg.Service == "" {
		cfg.Service = cfg.Target
	}
	w := &Model{
		cfg:          cfg,
		spec:         cfg.Spec,
		rps:          DefaultRPS,
		interval:     cfg.Spec.ScrapeInterval.Duration,
		latency:      latencyCache{},
		svcFQDN:      cfg.Service + "." + cfg.Namespace + ".svc.cluster.local",
		primaryName:  cfg.Target + "-primary",
		canaryName:   cfg.Target,
		pods:         map[string]*podSeries{},
		prev:         cfg.Start,
		trafficIndex: map[string]int{},
		rawAt:        map[promstore.SeriesRef]int{},
		clash:        -1,
	}
	for i := range w.batch.stale {
		w.batch.stale[i] = math.Float64frombits(value.StaleNaN)
	}
	if cfg.Spec.RPS != nil {
		w.rps = *cfg.Spec.RPS
	}
	if w.interval <= 0 {
		w.interval = DefaultScrapeInterval
	}
	if cfg.Spec.Noise {
		w.rng = rand.New(rand.NewPCG(uint64(cfg.Spec.Seed), uint64(cfg.Spec.Seed)))
	}
	w.faults = cfg.Spec.Faults
	for _, f := range w.faults {
		from := cfg.Start.Add(f.From.Duration)
		var until time.Time
		if f.Until.Duration > 0 {
			until = cfg.Start.Add(f.Until.Duration)
			w.boundaries = append(w.boundaries, until)
		}
		w.faultFrom = append(w.faultFrom, from)
		w.faultUntil = append(w.faultUntil, until)
		w.boundaries = append(w.boundaries, from)
	}
	slices.SortFunc(w.boundaries, func(a, b time.Time) int { return a.Compare(b) })
	w.boundaries = slices.CompactFunc(w.boundaries, func(a, b time.Time) bool { return a.Equal(b) })
	w.buildMixes()
	w.traefik = map[string]*traefikService{}

	for i, rs := range cfg.Spec.Series {
		es, err := ExpandRawSeries(rs)
		if err != nil {
			return nil, FieldError{Path: fmt.Sprintf("series[%d].values", i), Msg: err.Error()}
		}
		w.raw = append(w.raw, rawSeriesRef{ref: cfg.Store.Ref(es.Labels), series: es})
		w.rawAt[w.raw[i].ref] = i
	}
	return w, nil
}

// Scrape accounts the traffic of (previous scrape, now] and writes every series'
// sample at now. Call it with increasing instants, once the pods are as of now.
func (w *Model) Scrape(ctx context.Context, now time.Time) error {
	if now.Before(w.prev) {
		return fmt.Errorf("world: scrape at %s is before the previous one at %s", now.Sub(w.cfg.Start), w.prev.Sub(w.cfg.Start))
	}
	routing := Routing{PrimaryWeight: 100}
	if w.cfg.Routes != nil {
		r, err := w.cfg.Routes(ctx)
		if err != nil {
			return fmt.Errorf("world: read routes: %w", err)
		}
		routing = r
	}
	w.scrapes++
	w.scrapeAt = now
	w.traefikPrimary, w.traefikCanary = w.traefikRouted(routing.TraefikPrimary), w.traefikRouted(routing.TraefikCanary)

	// The pods of both workloads, and their series (created when a pod is first seen).
	w.podBuf = w.podBuf[:0]
	var (
		primaryImage, canaryImage string
		primaryKnown, canaryKnown bool
	)
	w.podBuf, primaryImage, primaryKnown = w.cfg.Pods.AppendPods(w.podBuf, w.primaryName)
	nPrimary := len(w.podBuf)
	w.podBuf, canaryImage, canaryKnown = w.cfg.Pods.AppendPods(w.podBuf, w.canaryName)
	for i := range w.podBuf {
		p := &w.podBuf[i]
		ps := w.pods[p.Name]
		if ps == nil {
			ps = w.newPodSeries(p, now)
			w.pods[p.Name] = ps
			w.active = append(w.active, ps)
		}
		ps.seen = w.scrapes
	}

	// Traffic, split where a fault window opens or closes.
	a := w.prev
	for _, t := range w.boundaries {
		if t.After(a) && t.Before(now) {
			w.serve(routing, a, t, nPrimary, primaryImage, primaryKnown, canaryImage, canaryKnown)
			a = t
		}
	}
	w.serve(routing, a, now, nPrimary, primaryImage, primaryKnown, canaryImage, canaryKnown)

	// Samples: every series of every current pod; staleness markers for pods gone.
	tms := now.UnixMilli()
	w.batch.reset()
	kept := w.active[:0]
	for _, ps := range w.active {
		if ps.seen == w.scrapes {
			ps.write(&w.batch, tms)
			kept = append(kept, ps)
			continue
		}
		ps.writeStale(&w.batch, tms)
		delete(w.pods, ps.name)
	}
	clear(w.active[len(kept):])
	w.active = kept
	w.writeTraefik(tms)

	// Raw series: sample i at Start + i×interval.
	for {
		t := w.cfg.Start.Add(time.Duration(w.rawNext) * w.interval)
		if t.After(now) || len(w.raw) == 0 {
			break
		}
		for _, rs := range w.raw {
			if v, omitted := rs.series.At(w.rawNext); !omitted {
				w.batch.add(rs.ref, t.UnixMilli(), v)
			}
		}
		w.rawNext++
	}
	if w.clash >= 0 {
		return FieldError{Path: fmt.Sprintf("series[%d].series", w.clash), Msg: fmt.Sprintf(
			"at %s the world writes a series with these labels too (a pod's, a counter's or Traefik's), and both cannot be stored: give this one labels of its own",
			now.Sub(w.cfg.Start))}
	}
	err := errors.Join(w.cfg.Store.AppendRows(w.batch.rows), w.cfg.Store.AppendBatch(w.batch.samples))
	w.prev = now
	if err != nil {
		return fmt.Errorf("world: append samples at %s: %w", now.Sub(w.cfg.Start), err)
	}
	return nil
}

// ownSeries notes the first raw series that is also one of the series the world
// writes (refs), which Scrape then reports instead of storing two values a sample.
func (w *Model) ownSeries(refs ...promstore.SeriesRef) {
	if len(w.rawAt) == 0 || w.clash >= 0 {
		return
	}
	for _, ref := range refs {
		if i, ok := w.rawAt[ref]; ok {
			w.clash = i
			return
		}
	}
}

// serve accounts the traffic of the segment (a, b], in which no fault window changes.
// w.podBuf[:nPrimary] are the primary's pods, the rest the canary's.
func (w *Model) serve(r Routing, a, b time.Time, nPrimary int, primaryImage string, primaryKnown bool, canaryImage string, canaryKnown bool) {
	dt := b.Sub(a).Seconds()
	if dt <= 0 {
		return
	}
	userDefault, userMatch := w.rps, 0.0
	if r.HasMatch {
		userMatch = w.rps * w.spec.MatchFraction
		userDefault = w.rps - userMatch
	}
	total := 100.0
	if r.WeightTotal > 0 {
		total = float64(r.WeightTotal)
	}
	primaryUser := userDefault*float64(r.PrimaryWeight)/total + userMatch*float64(r.MatchPrimaryWeight)/100
	canaryUser := userDefault*float64(r.CanaryWeight)/total + userMatch*float64(r.MatchCanaryWeight)/100
	canaryMirror := 0.0
	if r.Mirrored {
		canaryMirror = userDefault * float64(r.MirrorPercent) / 100
	}
	canaryDirect := w.spec.DirectRPS

	w.units = w.units[:0]
	w.addUnits(w.podBuf[:nPrimary], primaryImage, primaryKnown, w.traefikPrimary, primaryUser, 0, 0, false)
	w.addUnits(w.podBuf[nPrimary:], canaryImage, canaryKnown, w.traefikCanary, canaryUser, canaryMirror, canaryDirect, true)

	// Behaviour per version at a (constant over the segment).
	w.behavBuf = w.behavBuf[:0]
	for i := range w.units {
		w.behaviour(w.units[i].image, a)
	}

	// rps faults: the version receives that many requests per second in total.
	for bi := range w.behavBuf {
		rb := &w.behavBuf[bi]
		if !rb.hasRPS {
			continue
		}
		total, podUnits := 0.0, 0
		for _, u := range w.units {
			if u.image == rb.image {
				total += u.user + u.mirror + u.direct
				if u.pod != nil {
					podUnits++
				}
			}
		}
		for i := range w.units {
			u := &w.units[i]
			if u.image != rb.image {
				continue
			}
			// A pod-less unit always has a positive rate, so total == 0 means the
			// version's ready pods get no routed share: they share the rate evenly.
			switch {
			case total > 0:
				f := rb.rps / total
				u.user, u.mirror, u.direct = u.user*f, u.mirror*f, u.direct*f
			case u.pod != nil:
				u.user = rb.rps / float64(podUnits)
			}
		}
	}

	for i := range w.units {
		u := &w.units[i]
		rb := w.behaviour(u.image, a)
		vt := w.versionTraffic(u.image)
		if u.pod == nil {
			failed := w.draw(u.user * dt)
			w.exposure.add(u.canary, failed)
			vt.Requests += failed
			vt.Failed += failed
			if u.traefik != nil {
				w.traefikNoServer(u.traefik, failed)
			}
			continue
		}
		user := w.servePod(u.pod, rb, u.user*dt, u.traefik, vt)
		other := w.servePod(u.pod, rb, (u.mirror+u.direct)*dt, nil, nil)
		w.exposure.add(u.canary, user)
		if u.mirror > 0 {
			// Mirrored copies and direct load are drawn together; the copies are their share.
			w.exposure.Mirrored += other * u.mirror / (u.mirror + u.direct)
		}
		served := user + other
		for c := range u.pod.counters {
			u.pod.counters[c].value += served * u.pod.counters[c].perRequest
		}
	}
}

// addUnits spreads a workload's traffic evenly over its ready pods; a workload without
// ready pods gets one pod-less unit (its user requests fail) under its template image.
// tr is the Service Traefik sends the workload's user traffic through, if any.
func (w *Model) addUnits(pods []Pod, image string, known bool, tr *traefikService, user, mirror, direct float64, canary bool) {
	ready := 0
	for i := range pods {
		if pods[i].Ready {
			ready++
		}
	}
	if ready == 0 {
		if known && user+mirror+direct > 0 {
			w.units = append(w.units, unit{image: image, traefik: tr, user: user, mirror: mirror, direct: direct, canary: canary})
		}
		return
	}
	n := float64(ready)
	for i := range pods {
		if pods[i].Ready {
			w.units = append(w.units, unit{pod: w.pods[pods[i].Name], image: pods[i].Image, traefik: tr, user: user / n, mirror: mirror / n, direct: direct / n, canary: canary})
		}
	}
}

// servePod adds n expected requests (drawn with noise) to the pod's series and returns
// the number served. User requests (vt not nil) are also added to vt, and, when tr is
// not nil, to the series Traefik writes for the Service they went through.
func (w *Model) servePod(ps *podSeries, rb *resolvedBehaviour, n float64, tr *traefikService, vt *VersionTraffic) float64 {
	if n <= 0 {
		return 0
	}
	served := 0.0
	prof := rb.profile
	for _, cs := range rb.mix {
		if cs.share <= 0 {
			continue
		}
		lam := n * cs.share
		series := ps.codes[cs.code]
		var ts *traefikCodeSeries
		count := 0.0
		for i, mass := range prof.cell {
			if mass <= 0 {
				continue
			}
			// Traefik's buckets split some of the finer cells: their two parts are
			// drawn apart (a Poisson count split at random is two Poisson counts).
			below := prof.traefikBelow[i]
			var x, lower float64
			if tr != nil && below > 0 && below < 1 {
				lower = w.draw(lam * mass * below)
				x = lower + w.draw(lam*mass*(1-below))
			} else {
				x = w.draw(lam * mass)
				lower = x * below
			}
			if x <= 0 {
				continue
			}
			if series == nil {
				series = w.newCodeSeries(ps, cs.code, w.zeroAt(ps, w.scrapeAt))
				ps.codes[cs.code] = series
			}
			series.cells[i] += x
			series.sumMs += x * prof.cellMean[i]
			count += x
			if tr != nil {
				if ts == nil {
					ts = w.traefikCode(tr, cs.code)
				}
				ts.add(traefikCellOf[i], lower, x, x*prof.cellMean[i])
			}
		}
		served += count
		if vt != nil {
			vt.Requests += count
			if cs.failed {
				vt.Failed += count
			}
		}
	}
	return served
}

// draw returns the expected value, or a Poisson draw with that mean under noise.
// Independent Poisson counts per (code, bucket) are exactly a Poisson total split
// binomially into errors and multinomially into buckets.
func (w *Model) draw(mean float64) float64 {
	if mean <= 0 {
		return 0
	}
	if w.rng == nil {
		return mean
	}
	return float64(poisson(w.rng, mean))
}

// behaviour resolves (and memoises in behavBuf for the current segment) the behaviour
// of image at t: spec.versions[image], else "*", else the default; then active faults
// in order, later ones overriding earlier ones.
func (w *Model) behaviour(image string, t time.Time) *resolvedBehaviour {
	for i := range w.behavBuf {
		if w.behavBuf[i].image == image {
			return &w.behavBuf[i]
		}
	}
	key := image
	b, ok := w.spec.Versions[image]
	if !ok {
		key = AnyVersion
		b = w.spec.Versions[AnyVersion]
	}
	m, ok := w.versionMix[key]
	if !ok {
		m = w.defaultMix
	}
	p50, p99 := DefaultP50, DefaultP99
	if b.Latency != nil {
		if b.Latency.P50.Duration > 0 {
			p50 = b.Latency.P50.Duration
		}
		if b.Latency.P99.Duration > 0 {
			p99 = b.Latency.P99.Duration
		}
	}
	rb := resolvedBehaviour{image: image}
	for i, f := range w.faults {
		if f.Image != "" && f.Image != image {
			continue
		}
		if t.Before(w.faultFrom[i]) || !w.faultUntil[i].IsZero() && !t.Before(w.faultUntil[i]) {
			continue
		}
		if w.faultMix[i] != nil {
			m = w.faultMix[i]
		}
		if f.Latency != nil {
			if f.Latency.P50.Duration > 0 {
				p50 = f.Latency.P50.Duration
			}
			if f.Latency.P99.Duration > 0 {
				p99 = f.Latency.P99.Duration
			}
		}
		if f.RPS != nil {
			rb.rps, rb.hasRPS = *f.RPS, true
		}
	}
	rb.mix = m
	rb.profile = w.latency.get(p50, p99)
	w.behavBuf = append(w.behavBuf, rb)
	return &w.behavBuf[len(w.behavBuf)-1]
}

func (w *Model) versionTraffic(image string) *VersionTraffic {
	i, ok := w.trafficIndex[image]
	if !ok {
		i = len(w.traffic)
		w.trafficIndex[image] = i
		w.traffic = append(w.traffic, VersionTraffic{Image: image, New: image != w.cfg.InitialImage})
	}
	return &w.traffic[i]
}

// VersionTraffic counts requests served to users by one version (container image).
type VersionTraffic struct {
	Image    string  `json:"image"`
	New      bool    `json:"new"`
	Requests float64 `json:"requests"`
	Failed   float64 `json:"failed"`
}

// Traffic returns what each version (image) served to users so far, sorted by image.
// Mirrored copies and direct load are not user requests; user requests routed to a
// workload without ready pods count as requests and failures of its template's image.
// A request fails when it is answered with a 5xx (a 4xx is the client's: Flagger's
// builtin success rate counts it as a success too).
func (w *Model) Traffic() []VersionTraffic {
	out := slices.Clone(w.traffic)
	slices.SortFunc(out, func(a, b VersionTraffic) int { return cmp.Compare(a.Image, b.Image) })
	return out
}

// Exposure counts, since the start, the user requests each workload served, and
// the copies of user requests the mesh mirrored to the canary.
type Exposure struct {
	// Primary and Canary are the user requests that reached <target>-primary and
	// <target> (the canary): what users were exposed to, whatever the router's
	// weights say (an A/B match route sends only the matching share; an rps fault
	// changes a version's rate; a workload without ready pods fails what reaches it).
	Primary, Canary float64
	// Mirrored are copies of user requests the mesh also sent to the canary. Their
	// answers are discarded: no user sees them, so they are not exposure.
	Mirrored float64
}

func (e *Exposure) add(canary bool, n float64) {
	if canary {
		e.Canary += n
	} else {
		e.Primary += n
	}
}

// Exposure returns the user requests each workload served so far (cumulative; the
// difference of two readings is what was served between them).
func (w *Model) Exposure() Exposure { return w.exposure }

// FailedUserRequests is the blast radius: failed user requests of new versions (every
// image other than the initial one), rounded to the nearest integer.
func (w *Model) FailedUserRequests() int64 {
	total := 0.0
	for _, vt := range w.Traffic() {
		if vt.New {
			total += vt.Failed
		}
	}
	return int64(math.Round(total))
}

// newPodSeries interns the series of a pod first seen at the scrape at now: the 200
// code's Istio and HTTP families and the application counters, which start at 0 when
// the pod starts (as a registered client_golang counter does).
func (w *Model) newPodSeries(p *Pod, now time.Time) *podSeries {
	ps := &podSeries{name: p.Name, workload: p.Deployment, image: p.Image, started: p.Started, codes: make([]*codeSeries, len(w.codes))}
	zero := w.zeroAt(ps, now)
	ps.codes[w.successCode()] = w.newCodeSeries(ps, w.successCode(), zero)
	ps.countersZeroAt = zero
	for _, c := range w.spec.Counters {
		per, ok := c.PerRequest[p.Image]
		if !ok {
			per = c.PerRequest["*"]
		}
		ref := w.cfg.Store.Ref(labels.FromStrings(
			labels.MetricName, c.Name,
			"namespace", w.cfg.Namespace,
			"pod", p.Name,
		))
		w.ownSeries(ref)
		ps.counters = append(ps.counters, counterSeries{ref: ref, perRequest: per})
	}
	return ps
}

// zeroAt is the instant (ms) at which a series of the pod that appears at the scrape
// at now starts at 0: when the pod started, or at the previous scrape if the pod is
// older (a response code first served in this interval), but before now; -1 when
// there is no such instant (no time has passed since the previous scrape).
func (w *Model) zeroAt(ps *podSeries, now time.Time) int64 {
	prev, nowMs := w.prev.UnixMilli(), now.UnixMilli()
	z := max(prev, ps.started.UnixMilli())
	if z >= nowMs {
		z = nowMs - 1
	}
	if z < prev {
		return -1
	}
	return z
}

func (w *Model) newCodeSeries(ps *podSeries, code int, zeroAt int64) *codeSeries {
	ns := w.cfg.Namespace
	version := imageTag(ps.image)
	if version == "" {
		version = "unknown"
	}
	st := w.cfg.Store
	istio := newFamily(
		"connection_security_policy", "mutual_tls",
		"destination_app", ps.workload,
		"destination_service", w.svcFQDN,
		"destination_service_name", w.cfg.Service,
		"destination_service_namespace", ns,
		"destination_version", version,
		"destination_workload", ps.workload,
		"destination_workload_namespace", ns,
		"namespace", ns,
		"pod", ps.name,
		"reporter", "destination",
		"request_protocol", "http",
		"response_code", w.codes[code],
		"response_flags", "-",
		"source_workload", istioSourceWorkload,
		"source_workload_namespace", istioSourceWorkloadNamespace,
	)
	cs := &codeSeries{zeroAt: zeroAt}
	cs.refs[istioTotalAt] = st.Ref(istio.series(IstioRequests, ""))
	for i, le := range istioLe {
		cs.refs[istioBucketsAt+i] = st.Ref(istio.series(IstioDuration+"_bucket", le))
	}
	cs.refs[istioSumAt] = st.Ref(istio.series(IstioDuration+"_sum", ""))
	cs.refs[istioCountAt] = st.Ref(istio.series(IstioDuration+"_count", ""))

	http := newFamily(
		"kubernetes_namespace", ns,
		"kubernetes_pod_name", ps.name,
		"namespace", ns,
		"pod", ps.name,
		"status", w.codes[code],
	)
	for j, le := range httpLe {
		cs.refs[httpBucketsAt+j] = st.Ref(http.series(HTTPDuration+"_bucket", le))
	}
	cs.refs[httpSumAt] = st.Ref(http.series(HTTPDuration+"_sum", ""))
	cs.refs[httpCountAt] = st.Ref(http.series(HTTPDuration+"_count", ""))
	w.ownSeries(cs.refs[:]...)
	if g, err := st.NewGroup(cs.refs[:]); err == nil {
		cs.group = g
	}
	return cs
}

// family builds the label sets of the series of a metric family, which share their
// labels but for __name__ and le, with one allocation each (labels.Builder sorted and
// copied the whole set again for every series).
type family struct {
	sb labels.ScratchBuilder
	// ls is the shared labels in name order, with __name__ and le in their places.
	ls       []labels.Label
	name, le int
}

// newFamily is the family of the label pairs (name, value, name, value, ...), whose
// names must not be __name__ or le.
func newFamily(pairs ...string) *family {
	f := &family{ls: make([]labels.Label, 0, len(pairs)/2+2)}
	f.ls = append(f.ls, labels.Label{Name: labels.MetricName}, labels.Label{Name: "le"})
	for i := 0; i+1 < len(pairs); i += 2 {
		f.ls = append(f.ls, labels.Label{Name: pairs[i], Value: pairs[i+1]})
	}
	slices.SortFunc(f.ls, func(a, b labels.Label) int { return cmp.Compare(a.Name, b.Name) })
	for i, l := range f.ls {
		switch l.Name {
		case labels.MetricName:
			f.name = i
		case "le":
			f.le = i
		}
	}
	f.sb = labels.NewScratchBuilder(len(f.ls))
	return f
}

// series is the label set of the family's series name; le "" leaves le out.
func (f *family) series(name, le string) labels.Labels {
	f.ls[f.name].Value, f.ls[f.le].Value = name, le
	f.sb.Reset()
	for _, l := range f.ls {
		if l.Value != "" {
			f.sb.Add(l.Name, l.Value)
		}
	}
	return f.sb.Labels()
}

// scrapeBatch is a scrape's samples until they are appended together: a row for each
// grouped code series, single samples for the rest.
type scrapeBatch struct {
	samples []promstore.Sample
	rows    []promstore.Row
	// zeros and stale are the values of a code series' first row and of its
	// staleness markers (New fills stale).
	zeros, stale [seriesPerCode]float64
}

func (b *scrapeBatch) reset() { b.samples, b.rows = b.samples[:0], b.rows[:0] }

func (b *scrapeBatch) add(ref promstore.SeriesRef, t int64, v float64) {
	b.samples = append(b.samples, promstore.Sample{Ref: ref, T: t, V: v})
}

// addRow adds the values at t of series written together: a row of their group when
// they have one (group != 0), their samples otherwise. values (as many as refs) must
// stay unchanged until the batch is appended.
func (b *scrapeBatch) addRow(group promstore.GroupRef, refs []promstore.SeriesRef, t int64, values []float64) {
	if group != 0 {
		b.rows = append(b.rows, promstore.Row{Group: group, T: t, Values: values})
		return
	}
	for i, ref := range refs {
		b.add(ref, t, values[i])
	}
}

// write adds the pod's current cumulative values at t (ms) to b, preceded by the
// zeros of series that just appeared.
func (ps *podSeries) write(b *scrapeBatch, t int64) {
	for _, cs := range ps.codes {
		if cs == nil {
			continue
		}
		if cs.zeroAt >= 0 {
			b.addRow(cs.group, cs.refs[:], cs.zeroAt, b.zeros[:])
			cs.zeroAt = -1
		}
		total := 0.0
		for i, x := range cs.cells {
			total += x
			cs.row[istioBucketsAt+i] = total
		}
		cs.row[istioTotalAt] = total
		cs.row[istioSumAt] = cs.sumMs
		cs.row[istioCountAt] = total
		for j := range numHTTPBuckets {
			cs.row[httpBucketsAt+j] = cs.row[istioBucketsAt+httpCellEnd[j]]
		}
		cs.row[httpSumAt] = cs.sumMs / 1000
		cs.row[httpCountAt] = total
		b.addRow(cs.group, cs.refs[:], t, cs.row[:])
	}
	for _, c := range ps.counters {
		if ps.countersZeroAt >= 0 {
			b.add(c.ref, ps.countersZeroAt, 0)
		}
		b.add(c.ref, t, c.value)
	}
	ps.countersZeroAt = -1
}

// writeStale adds a staleness marker at t for every series of the pod, which is gone.
func (ps *podSeries) writeStale(b *scrapeBatch, t int64) {
	for _, cs := range ps.codes {
		if cs != nil {
			b.addRow(cs.group, cs.refs[:], t, b.stale[:])
		}
	}
	for _, c := range ps.counters {
		b.add(c.ref, t, b.stale[0])
	}
}

// poisson draws from a Poisson distribution with mean lam: Knuth's multiplication
// method below 10, Hörmann's PTRS transformed rejection (as numpy) above.
func poisson(r *rand.Rand, lam float64) int64 {
	if lam < 10 {
		l := math.Exp(-lam)
		k := int64(0)
		p := r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	}
	slam := math.Sqrt(lam)
	loglam := math.Log(lam)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lam + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || us < 0.013 && v > us {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lam+k*loglam-lg {
			return int64(k)
		}
	}
}

// imageTag returns an image reference's tag: "latest" when it has neither tag nor
// digest, "" when it has only a digest. It names the version in Istio's
// destination_version label.
func imageTag(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		return tagOf(image[:i])
	}
	if t := tagOf(image); t != "" {
		return t
	}
	return "latest"
}

func tagOf(ref string) string {
	slash := strings.LastIndexByte(ref, '/')
	if colon := strings.LastIndexByte(ref, ':'); colon > slash {
		return ref[colon+1:]
	}
	return ""
}
