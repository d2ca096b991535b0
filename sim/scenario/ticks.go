package scenario

import (
	"iter"
	"slices"
	"time"

	"aviary.dev/aviary/engine"
)

// Tick is one record of Result.Ticks: the engine's record of one tick, or of a
// stretch of consecutive ticks whose records are the same but for their time and
// that are evenly spaced. A canary that stays Succeeded, or that waits for a canary
// that never becomes ready, ticks the same way for as long as the run lasts: the
// stretch is one record, so that the run record does not grow with virtual time.
// In JSON the repeat count and spacing follow the record's own fields:
//
//	{"at": "...", ..., "repeat": 1438, "every": "1m0s"}
//
// is the tick at "at" followed by 1438 more with the same record, one a minute.
type Tick struct {
	engine.TickRecord
	// Repeat is how many more ticks followed the first with the same record, each
	// Every after the one before: the record stands for 1+Repeat ticks. 0 for one.
	Repeat int `json:"repeat,omitempty"`
	// Every is the time between the repeated ticks; 0 when Repeat is 0.
	Every Offset `json:"every,omitempty"`
}

// Last is the time of the last tick the record stands for.
func (t *Tick) Last() time.Time { return t.At.Add(time.Duration(t.Repeat) * time.Duration(t.Every)) }

// Nth is the record of the k-th tick t stands for (0 is the first): t's, at its time.
func (t *Tick) Nth(k int) engine.TickRecord {
	rec := t.TickRecord
	rec.At = t.At.Add(time.Duration(k) * time.Duration(t.Every))
	return rec
}

// EachTick yields the record of every tick of the run, in order, each repeat of a
// compact record (Tick.Repeat) as a record of its own: what a consumer that counts
// ticks, events, webhook calls or alerts must read instead of Ticks.
func (r *Result) EachTick() iter.Seq[engine.TickRecord] { return NewTickList(r.Ticks).All() }

// TickList reads the ticks of records by position, each repeat of a compact record
// a tick of its own, without expanding them: for consumers that look back and
// forth, as the reports' explanations do.
type TickList struct {
	records []Tick
	// ends[i] is the number of ticks records[:i+1] stand for.
	ends []int
}

// NewTickList lists the ticks of records.
func NewTickList(records []Tick) TickList {
	l := TickList{records: records, ends: make([]int, len(records))}
	n := 0
	for i := range records {
		n += 1 + records[i].Repeat
		l.ends[i] = n
	}
	return l
}

// Len is the number of ticks.
func (l TickList) Len() int {
	if len(l.ends) == 0 {
		return 0
	}
	return l.ends[len(l.ends)-1]
}

// At is the record of tick i, 0 <= i < Len().
func (l TickList) At(i int) engine.TickRecord {
	r, _ := slices.BinarySearch(l.ends, i+1)
	first := 0
	if r > 0 {
		first = l.ends[r-1]
	}
	return l.records[r].Nth(i - first)
}

// All yields every tick's record, in order.
func (l TickList) All() iter.Seq[engine.TickRecord] {
	return func(yield func(engine.TickRecord) bool) {
		for i := range l.records {
			for k := 0; k <= l.records[i].Repeat; k++ {
				if !yield(l.records[i].Nth(k)) {
					return
				}
			}
		}
	}
}

// AppendTick adds the record of the next tick to ticks: as one more repeat of the
// last record when rec is the same but for its time (engine.TickRecord.SameAs) and
// follows it as the repeats do (any time after it, for the first repeat), else as a
// record of its own. repeated says which.
func AppendTick(ticks []Tick, rec engine.TickRecord) (_ []Tick, repeated bool) {
	if n := len(ticks); n > 0 {
		last := &ticks[n-1]
		gap := rec.At.Sub(last.Last())
		if gap > 0 && (last.Repeat == 0 || gap == time.Duration(last.Every)) && last.SameAs(&rec) {
			last.Repeat++
			last.Every = Offset(gap)
			return ticks, true
		}
	}
	return append(ticks, Tick{TickRecord: rec}), false
}
