package promstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// Storage is the simulator's series store: in memory, append only, float samples only.
// It implements storage.Queryable, so Prometheus' own PromQL engine reads it exactly as it
// reads a Prometheus server's TSDB.
//
// Why not Prometheus' TSDB head (the choice was made by benchmark, see
// BenchmarkStorageQuery): a simulated run lives for one process and a few hundred series,
// so it needs none of what the head pays for — no WAL, no chunk compression and
// memory-mapping, no isolation, no out-of-order window, no garbage collection. Every
// series is two plain slices (timestamps, values) that a query reads in place through a
// binary search, and an index by metric name (__name__) keeps a selector from scanning
// series of other metrics. Series that are always appended together (the families of
// one pod and response code) can form a group, whose members share one slice of
// timestamps: a scrape then writes each timestamp once per group, not once per series.
// Queries never see the future because the simulator only appends samples up to the
// virtual now: the store itself needs no notion of time. What queries can no longer
// reach can be dropped (Truncate), so that a long run holds a bounded window of
// samples; a query that would read dropped samples fails instead of finding less.
// On the benchmark's data (a 30-minute rollout: 312 series, 121 scrapes, 100 queries)
// filling this store costs about a sixth of filling the head, and queries cost the same
// or less: PromQL parsing and evaluation, not storage, dominate a query.
//
// Behaviour that PromQL results depend on is the TSDB's:
//   - samples of a series are strictly time ordered: an older sample is rejected with
//     storage.ErrOutOfOrderSample, a second sample at the same timestamp with
//     storage.ErrDuplicateSampleForTimestamp unless it is bit-for-bit the same value;
//   - staleness markers are ordinary samples with the value value.StaleNaN (promtool's
//     `stale`); the engine treats them as the end of the series;
//   - Select without sorting returns series in the order they were first referenced,
//     as the head returns them in series-ID order; this is the order of an instant
//     vector's result, which matters to Flagger ("the last series wins").
//
// A Storage is safe for concurrent use; a Querier sees the samples that were appended
// when its Select ran.
type Storage struct {
	mu sync.RWMutex
	// series are held by value, by SeriesRef-1 (the order of first reference); the
	// indexes hold handles. One allocation fewer per series than a pointer each.
	series []memSeries
	byHash map[uint64]SeriesRef // labels hash -> the first series of that hash
	// collisions holds the other series of a hash, rare enough to cost a slice each.
	collisions map[uint64][]SeriesRef
	byName     map[string][]SeriesRef // __name__ -> series in reference order
	names      []string               // metric names in the order first seen
	groups     []memGroup             // by GroupRef-1
	// floor is the time (ms) from which on the store holds every sample appended:
	// Truncate's latest mint, math.MinInt64 before any.
	floor int64
	// open counts the queriers not closed yet: the views of their Selects alias the
	// store's slices, which Truncate must then leave as they are.
	open atomic.Int64
}

// SeriesRef is a handle on an interned series; the zero value refers to no series.
type SeriesRef uint32

// GroupRef is a handle on a group of series (NewGroup); the zero value is no group.
type GroupRef uint32

type memSeries struct {
	lset labels.Labels
	ts   []int64 // milliseconds, strictly increasing; a group member's are its group's
	vs   []float64
	// group is the series' group, whose timestamps it shares; 0 for none.
	group GroupRef
}

// memGroup is series appended a row at a time: a timestamp and one value each.
type memGroup struct {
	ts      []int64
	members []SeriesRef
}

var (
	_ storage.Queryable = (*Storage)(nil)
	_ chunkenc.Iterator = (*sampleIterator)(nil)
)

// Errors of the append methods.
var (
	// ErrUnknownSeriesRef is returned by Append for a SeriesRef this store did not hand out.
	ErrUnknownSeriesRef = errors.New("unknown series reference")
	// ErrUnknownGroupRef is returned by AppendRows for a GroupRef this store did not hand out.
	ErrUnknownGroupRef = errors.New("unknown group reference")
	// ErrGrouped is returned by Append for a series of a group: AppendRows appends it.
	ErrGrouped = errors.New("series belongs to a group")
	// ErrNotGroupable is returned by NewGroup for series that already have samples or a group.
	ErrNotGroupable = errors.New("only new series can form a group")
	// ErrTruncated is the error of a query that reads samples older than the store's
	// floor (Truncate): it would find less than was written.
	ErrTruncated = errors.New("the query reads samples the store has dropped")
)

// NewStorage returns an empty store.
func NewStorage() *Storage {
	return &Storage{
		byHash:     map[uint64]SeriesRef{},
		collisions: map[uint64][]SeriesRef{},
		byName:     map[string][]SeriesRef{},
		floor:      math.MinInt64,
	}
}

// Ref interns the series lset (once; later calls return the same handle) and returns
// its handle for Append. lset should be a valid Prometheus label set (as built by
// labels.FromStrings or labels.Builder: sorted, no duplicate names). The store keeps
// lset itself, not a copy (a run creates hundreds of series): it must not be reused,
// as a labels.ScratchBuilder's Overwrite would.
func (s *Storage) Ref(lset labels.Labels) SeriesRef { return s.refHashed(lset.Hash(), lset) }

// refHashed is Ref of lset, whose hash is h (tests give colliding ones).
func (s *Storage) refHashed(h uint64, lset labels.Labels) SeriesRef {
	s.mu.RLock()
	ref := s.lookup(h, lset)
	s.mu.RUnlock()
	if ref != 0 {
		return ref
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref := s.lookup(h, lset); ref != 0 {
		return ref
	}
	if len(s.series) >= math.MaxUint32 {
		panic("promstore: too many series")
	}
	s.series = append(s.series, memSeries{lset: lset})
	ref = SeriesRef(len(s.series))
	if _, taken := s.byHash[h]; taken {
		s.collisions[h] = append(s.collisions[h], ref)
	} else {
		s.byHash[h] = ref
	}
	name := lset.Get(labels.MetricName)
	if _, ok := s.byName[name]; !ok {
		s.names = append(s.names, name)
	}
	s.byName[name] = append(s.byName[name], ref)
	return ref
}

// lookup returns the handle of the series lset, whose hash is h, or 0.
func (s *Storage) lookup(h uint64, lset labels.Labels) SeriesRef {
	ref, ok := s.byHash[h]
	if !ok {
		return 0
	}
	if labels.Equal(s.series[ref-1].lset, lset) {
		return ref
	}
	for _, ref := range s.collisions[h] {
		if labels.Equal(s.series[ref-1].lset, lset) {
			return ref
		}
	}
	return 0
}

// Append adds the sample (t in milliseconds, v) to the series ref. t must be later than
// the series' last sample: an older sample is ignored and storage.ErrOutOfOrderSample
// returned; a sample at the same timestamp is ignored, and unless it repeats the same
// value storage.ErrDuplicateSampleForTimestamp is returned (as Prometheus' TSDB does).
func (s *Storage) Append(ref SeriesRef, t int64, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.append(ref, t, v)
}

// Sample is one sample of a series, for AppendBatch.
type Sample struct {
	Ref SeriesRef
	T   int64 // milliseconds
	V   float64
}

// maxBatchErrors is how many refused samples AppendBatch reports.
const maxBatchErrors = 3

// AppendBatch appends samples in order, as Append would one at a time, under one
// lock (a scrape appends hundreds). It returns the errors of the first few samples
// Append would have refused, joined; the other samples are appended.
func (s *Storage) AppendBatch(samples []Sample) error { return appendEach(s, samples) }

func (x Sample) appendTo(s *Storage) error { return s.append(x.Ref, x.T, x.V) }

// appendEach appends every item under s.mu and returns the errors of the first few
// it refused, joined. The items append themselves: a closure or method value passed
// in cost an allocation per call.
func appendEach[T interface{ appendTo(*Storage) error }](s *Storage, items []T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, x := range items {
		if err := x.appendTo(s); err != nil && len(errs) < maxBatchErrors {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// initialSamples is a new series' capacity: a run is usually a few hundred scrapes,
// and starting there spares most of the doubling copies.
const initialSamples = 64

// append is Append with s.mu held.
func (s *Storage) append(ref SeriesRef, t int64, v float64) error {
	if ref == 0 || int(ref) > len(s.series) {
		return fmt.Errorf("%w %d", ErrUnknownSeriesRef, ref)
	}
	ms := &s.series[ref-1]
	if ms.group != 0 {
		return fmt.Errorf("%w: series %d is in group %d", ErrGrouped, ref, ms.group)
	}
	if n := len(ms.ts); n > 0 {
		last := ms.ts[n-1]
		switch {
		case t < last:
			return storage.ErrOutOfOrderSample
		case t == last:
			if math.Float64bits(v) == math.Float64bits(ms.vs[n-1]) {
				return nil
			}
			return storage.NewDuplicateFloatErr(t, ms.vs[n-1], v)
		}
	} else if cap(ms.ts) == 0 {
		ms.ts = make([]int64, 0, initialSamples)
		ms.vs = make([]float64, 0, initialSamples)
	}
	ms.ts = append(ms.ts, t)
	ms.vs = append(ms.vs, v)
	return nil
}

// NewGroup makes the series refs (new ones: without samples or a group) a group,
// appended with AppendRows only, a row at a time: one timestamp, one value for each
// series in the order of refs. The members share their timestamps. Refs that already
// are a group, in the same order, are that group again (the series of a pod whose
// name comes back).
func (s *Storage) NewGroup(refs []SeriesRef) (GroupRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(refs) > 0 && refs[0] != 0 && int(refs[0]) <= len(s.series) {
		if g := s.series[refs[0]-1].group; g != 0 && slices.Equal(s.groups[g-1].members, refs) {
			return g, nil
		}
	}
	seen := make(map[SeriesRef]bool, len(refs))
	for _, ref := range refs {
		if ref == 0 || int(ref) > len(s.series) {
			return 0, fmt.Errorf("%w %d", ErrUnknownSeriesRef, ref)
		}
		if ms := &s.series[ref-1]; len(ms.ts) > 0 || ms.group != 0 || seen[ref] {
			return 0, fmt.Errorf("%w: series %d", ErrNotGroupable, ref)
		}
		seen[ref] = true
	}
	if len(s.groups) >= math.MaxUint32 {
		panic("promstore: too many groups")
	}
	g := GroupRef(len(s.groups) + 1)
	for _, ref := range refs {
		s.series[ref-1].group = g
	}
	s.groups = append(s.groups, memGroup{members: slices.Clone(refs)})
	return g, nil
}

// Row is one sample of every series of a group, at one time, for AppendRows.
type Row struct {
	Group  GroupRef
	T      int64     // milliseconds
	Values []float64 // in the order of the group's series; not kept
}

// AppendRows appends rows in order under one lock, each as Append would append its
// samples: a row older than the group's last is refused (storage.ErrOutOfOrderSample);
// a row at the same time is ignored, and refused unless it repeats every value
// (storage.ErrDuplicateSampleForTimestamp). It returns the errors of the first few
// refused rows, joined; the other rows are appended.
func (s *Storage) AppendRows(rows []Row) error { return appendEach(s, rows) }

// appendTo is AppendRows of one row, with s.mu held.
func (r Row) appendTo(s *Storage) error {
	if r.Group == 0 || int(r.Group) > len(s.groups) {
		return fmt.Errorf("%w %d", ErrUnknownGroupRef, r.Group)
	}
	g := &s.groups[r.Group-1]
	if len(r.Values) != len(g.members) {
		return fmt.Errorf("group %d has %d series, a row of %d values", r.Group, len(g.members), len(r.Values))
	}
	if n := len(g.ts); n > 0 {
		last := g.ts[n-1]
		switch {
		case r.T < last:
			return storage.ErrOutOfOrderSample
		case r.T == last:
			for i, ref := range g.members {
				if prev := s.series[ref-1].vs[n-1]; math.Float64bits(prev) != math.Float64bits(r.Values[i]) {
					return storage.NewDuplicateFloatErr(r.T, prev, r.Values[i])
				}
			}
			return nil
		}
	} else if cap(g.ts) == 0 {
		g.ts = make([]int64, 0, initialSamples)
	}
	g.ts = append(g.ts, r.T)
	for i, ref := range g.members {
		ms := &s.series[ref-1]
		if cap(ms.vs) == 0 {
			ms.vs = make([]float64, 0, initialSamples)
		}
		ms.vs = append(ms.vs, r.Values[i])
	}
	return nil
}

// Truncate drops the samples older than mint (milliseconds) that no query may read
// any more: afterwards the store holds every sample at mint or later, and a Select
// that reads from before mint fails with ErrTruncated rather than return less than was
// written. A later Truncate with an earlier mint changes nothing.
//
// A series' samples are cut only where the dropped samples are at least as many as
// those kept (the others keep theirs until then), so that moving what is kept costs
// at most one sample per sample dropped. The kept samples move to the front of their
// slices, which then take the new samples without growing; while a querier is open
// (the views of its Selects alias the slices) they are copied into new slices
// instead, so that those views stay valid. A group's series are cut at the same
// place as its timestamps. A series with no sample left (its pod is gone) gives its
// slices back and keeps its handle and labels: it may be appended again.
func (s *Storage) Truncate(mint int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mint <= s.floor {
		return
	}
	s.floor = mint
	// A querier opened from here on selects after the lock is released.
	inPlace := s.open.Load() == 0
	for i := range s.groups {
		g := &s.groups[i]
		n := dropCount(g.ts, mint)
		if n == 0 {
			continue
		}
		g.ts = keptTail(g.ts, n, inPlace)
		for _, ref := range g.members {
			ms := &s.series[ref-1]
			ms.vs = keptTail(ms.vs, n, inPlace)
		}
	}
	for i := range s.series {
		ms := &s.series[i]
		if ms.group != 0 {
			continue
		}
		if n := dropCount(ms.ts, mint); n > 0 {
			ms.ts, ms.vs = keptTail(ms.ts, n, inPlace), keptTail(ms.vs, n, inPlace)
		}
	}
}

// Samples is how many samples the store holds: what Truncate bounds.
func (s *Storage) Samples() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for i := range s.series {
		n += len(s.series[i].vs)
	}
	return n
}

// dropCount is how many of the oldest samples of ts (sorted) Truncate drops for
// mint: those older than mint when they are at least as many as those kept, else none.
func dropCount(ts []int64, mint int64) int {
	if len(ts) == 0 || ts[0] >= mint {
		return 0
	}
	n := searchTime(ts, 0, mint)
	if n < len(ts)-n {
		return 0
	}
	return n
}

// keptTail is x[n:] moved to the front of x (inPlace) or copied into a new slice,
// with room for as many samples as were dropped either way: as many as come before
// the next Truncate at the same pace, so that appending does not grow it again; nil
// when nothing is kept.
func keptTail[T int64 | float64](x []T, n int, inPlace bool) []T {
	if n >= len(x) {
		return nil
	}
	if inPlace {
		return x[:copy(x, x[n:])]
	}
	out := make([]T, len(x)-n, len(x))
	copy(out, x[n:])
	return out
}

// truncated is the error of a read from start (ms) when that is before the floor,
// else nil. Called with s.mu held.
func (s *Storage) truncated(start int64) error {
	if start >= s.floor {
		return nil
	}
	return fmt.Errorf("%w: it reads from %s, the store holds samples from %s on",
		ErrTruncated, time.UnixMilli(start).UTC().Format(time.RFC3339Nano), time.UnixMilli(s.floor).UTC().Format(time.RFC3339Nano))
}

// timestamps returns the times of ms's samples: its own, or its group's. Called with
// s.mu held.
func (s *Storage) timestamps(ms *memSeries) []int64 {
	if ms.group != 0 {
		return s.groups[ms.group-1].ts
	}
	return ms.ts
}

// Latest yields every series' labels and the value of its last sample, for the
// series whose last sample is not a staleness marker (a pod gone) and that still hold
// one: what a Prometheus scraping the world now would read from an exporter.
// Series come by metric name, in the order the names were first seen, and in the
// order of first reference within a name, so that a metric family's series come
// together. The store is read-locked while the loop runs: its body must not append.
func (s *Storage) Latest() iter.Seq2[labels.Labels, float64] {
	return func(yield func(labels.Labels, float64) bool) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, name := range s.names {
			for _, ref := range s.byName[name] {
				ms := &s.series[ref-1]
				n := len(ms.vs)
				if n == 0 || value.IsStaleNaN(ms.vs[n-1]) {
					continue
				}
				if !yield(ms.lset, ms.vs[n-1]) {
					return
				}
			}
		}
	}
}

// AppendLabels is Append(Ref(lset), t, v).
func (s *Storage) AppendLabels(lset labels.Labels, t int64, v float64) error {
	return s.Append(s.Ref(lset), t, v)
}

// Querier returns a querier over the samples with mint <= t <= maxt (milliseconds).
// The series its Selects return are valid until it is closed.
func (s *Storage) Querier(mint, maxt int64) (storage.Querier, error) {
	s.open.Add(1)
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Storage
	mint, maxt int64
	closed     bool
}

// Select returns the series matching all matchers that have samples in the querier's
// range, with only those samples.
func (q *querier) Select(_ context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	q.s.mu.RLock()
	start := q.mint
	if hints != nil {
		start = max(start, hints.Start)
	}
	if err := q.s.truncated(start); err != nil {
		q.s.mu.RUnlock()
		return storage.ErrSeriesSet(err)
	}
	cands, merged := q.s.candidates(matchers)
	var out []seriesView
	for _, ref := range cands {
		ms := &q.s.series[ref-1]
		if !matchesAll(ms.lset, matchers) {
			continue
		}
		ts := q.s.timestamps(ms)
		lo, hi := bounds(ts, q.mint, q.maxt)
		if lo == hi {
			continue
		}
		if out == nil {
			out = make([]seriesView, 0, len(cands))
		}
		out = append(out, seriesView{ref: ref, lset: ms.lset, ts: ts[lo:hi:hi], vs: ms.vs[lo:hi:hi]})
	}
	q.s.mu.RUnlock()

	switch {
	case sortSeries:
		slices.SortFunc(out, func(a, b seriesView) int { return labels.Compare(a.lset, b.lset) })
	case merged:
		slices.SortFunc(out, func(a, b seriesView) int { return int(a.ref) - int(b.ref) })
	}
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return &seriesSet{series: out, i: -1}
}

// LabelValues returns the sorted values of the label name among the series matching
// the matchers that have samples in the querier's range.
func (q *querier) LabelValues(_ context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	err := q.each(matchers, func(lset labels.Labels) {
		if v := lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return sortedKeys(seen, hints), nil, nil
}

// LabelNames returns the sorted label names of the series matching the matchers that
// have samples in the querier's range.
func (q *querier) LabelNames(_ context.Context, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	err := q.each(matchers, func(lset labels.Labels) {
		lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	})
	if err != nil {
		return nil, nil, err
	}
	return sortedKeys(seen, hints), nil, nil
}

func (q *querier) Close() error {
	if !q.closed {
		q.closed = true
		q.s.open.Add(-1)
	}
	return nil
}

func (q *querier) each(matchers []*labels.Matcher, f func(labels.Labels)) error {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	if err := q.s.truncated(q.mint); err != nil {
		return err
	}
	cands, _ := q.s.candidates(matchers)
	for _, ref := range cands {
		ms := &q.s.series[ref-1]
		if !matchesAll(ms.lset, matchers) {
			continue
		}
		if lo, hi := bounds(q.s.timestamps(ms), q.mint, q.maxt); lo < hi {
			f(ms.lset)
		}
	}
	return nil
}

func sortedKeys(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

// candidates narrows the series to those whose metric name can match, using the name
// index when the matchers constrain __name__. merged reports that the result joins
// several names' lists and is therefore not in reference order. Called with s.mu held.
func (s *Storage) candidates(matchers []*labels.Matcher) (cands []SeriesRef, merged bool) {
	var nameMatchers []*labels.Matcher
	for _, m := range matchers {
		if m.Name != labels.MetricName {
			continue
		}
		if m.Type == labels.MatchEqual {
			return s.byName[m.Value], false
		}
		nameMatchers = append(nameMatchers, m)
	}
	if len(nameMatchers) == 0 {
		return s.allRefs(), false
	}
	lists := 0
	for _, name := range s.names {
		if !matchesAllValue(name, nameMatchers) {
			continue
		}
		if lists == 0 {
			cands = s.byName[name]
		} else {
			if lists == 1 {
				cands = slices.Clone(cands)
			}
			cands = append(cands, s.byName[name]...)
		}
		lists++
	}
	return cands, lists > 1
}

// allRefs lists every series' handle, in reference order. Called with s.mu held.
func (s *Storage) allRefs() []SeriesRef {
	refs := make([]SeriesRef, len(s.series))
	for i := range refs {
		refs[i] = SeriesRef(i + 1)
	}
	return refs
}

func matchesAll(lset labels.Labels, matchers []*labels.Matcher) bool {
	for _, m := range matchers {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

func matchesAllValue(v string, matchers []*labels.Matcher) bool {
	for _, m := range matchers {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// bounds returns the index range [lo, hi) of the timestamps ts (sorted) within
// [mint, maxt].
func bounds(ts []int64, mint, maxt int64) (lo, hi int) {
	if len(ts) == 0 || ts[len(ts)-1] < mint || ts[0] > maxt {
		return 0, 0
	}
	lo = searchTime(ts, 0, mint)
	hi = searchTime(ts, lo, maxt+1)
	if maxt == math.MaxInt64 {
		hi = len(ts)
	}
	return lo, hi
}

// searchTime returns the first index i >= from with ts[i] >= t, or len(ts).
func searchTime[T ~int64](ts []T, from int, t T) int {
	lo, hi := from, len(ts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ts[mid] < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// seriesSet iterates over the series one Select found.
type seriesSet struct {
	series []seriesView
	i      int
}

func (s *seriesSet) Next() bool {
	if s.i+1 >= len(s.series) {
		s.i = len(s.series)
		return false
	}
	s.i++
	return true
}

func (s *seriesSet) At() storage.Series              { return &s.series[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// seriesView is a series with the samples of a query's range. The slices alias the
// store's: appends never modify samples already written, and while the querier is
// open Truncate copies what it keeps into new slices, so a view stays valid.
type seriesView struct {
	ref  SeriesRef
	lset labels.Labels
	ts   []int64
	vs   []float64
}

func (s *seriesView) Labels() labels.Labels { return s.lset }

func (s *seriesView) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	if it, ok := reuse.(*sampleIterator); ok {
		*it = sampleIterator{ts: s.ts, vs: s.vs, i: -1}
		return it
	}
	return &sampleIterator{ts: s.ts, vs: s.vs, i: -1}
}

// sampleIterator is a chunkenc.Iterator over float samples held in two slices.
type sampleIterator = floatIterator[int64]

// floatIterator is sampleIterator. It is generic over the timestamp type only because
// go vet's stdmethods check takes any method Seek(int64, ...) for an io.Seeker and
// rejects chunkenc.Iterator's Seek(int64) ValueType; it is only instantiated with int64.
type floatIterator[T ~int64] struct {
	ts []T
	vs []float64
	i  int
}

func (it *floatIterator[T]) Next() chunkenc.ValueType {
	if it.i+1 >= len(it.ts) {
		it.i = len(it.ts)
		return chunkenc.ValNone
	}
	it.i++
	return chunkenc.ValFloat
}

func (it *floatIterator[T]) Seek(t T) chunkenc.ValueType {
	if it.i < 0 {
		it.i = 0
	}
	if it.i >= len(it.ts) {
		return chunkenc.ValNone
	}
	if it.ts[it.i] < t {
		it.i = searchTime(it.ts, it.i, t)
		if it.i >= len(it.ts) {
			return chunkenc.ValNone
		}
	}
	return chunkenc.ValFloat
}

func (it *floatIterator[T]) At() (T, float64) { return it.ts[it.i], it.vs[it.i] }

func (it *floatIterator[T]) AtHistogram(*histogram.Histogram) (T, *histogram.Histogram) {
	return it.ts[it.i], nil
}

func (it *floatIterator[T]) AtFloatHistogram(*histogram.FloatHistogram) (T, *histogram.FloatHistogram) {
	return it.ts[it.i], nil
}

func (it *floatIterator[T]) AtT() T   { return it.ts[it.i] }
func (*floatIterator[T]) AtST() int64 { return 0 }
func (*floatIterator[T]) Err() error  { return nil }
