package world_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"aviary.dev/aviary/sim/world"
)

// FuzzParseRawSeries feeds arbitrary scenario series to the parser: it must never
// panic, every error must say something, every success must be a usable series, and
// parsing the same series twice must give the same outcome.
// Run it with: go test ./sim/ -run '^$' -fuzz FuzzParseRawSeries
func FuzzParseRawSeries(f *testing.F) {
	for _, seed := range [][2]string{
		{`queue_depth{namespace="test"}`, "0+2x100"},
		{"up", "1 _x3 stale"},
		{"up", "NaN Inf -Inf +Inf"},
		{`{__name__="x", a="b"}`, "-1.5e3-0.5x4 _ 7"},
		{`h`, "{{schema:0 sum:1 count:1 buckets:[1]}}x2"},
		{`up{job="a"`, "1"},
		{"up 1 2", ""},
		{"", "1"},
		{"up", "0x99999999"},
		{`up{id="x9"}`, "1x1_0"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, series, values string) {
		s := world.RawSeries{Series: series, Values: values}
		lset, vals, err := world.ParseRawSeries(s)
		lset2, vals2, err2 := world.ParseRawSeries(s)
		if fmt.Sprint(err) != fmt.Sprint(err2) || lset.String() != lset2.String() || !sameValues(vals, vals2) {
			t.Fatalf("parsed twice, two outcomes: %v %v / %v %v", lset, err, lset2, err2)
		}
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("empty error for %q %q", series, values)
			}
			if vals != nil {
				t.Fatalf("values returned with error %v", err)
			}
			return
		}
		if lset.IsEmpty() {
			t.Fatalf("no labels for %q %q", series, values)
		}
		if len(vals) == 0 || len(vals) > world.MaxRawSeriesSamples {
			t.Fatalf("%d values for %q %q", len(vals), series, values)
		}
		e, err := world.ExpandRawSeries(s)
		if err != nil {
			t.Fatalf("ExpandRawSeries failed where ParseRawSeries succeeded: %v", err)
		}
		for i, v := range vals {
			if v.Histogram != nil {
				t.Fatalf("histogram value %d accepted", i)
			}
			if _, omitted := e.At(i); omitted != v.Omitted {
				t.Fatalf("At(%d) omitted=%v, value %v", i, omitted, v)
			}
		}
		if _, omitted := e.At(len(vals)); !omitted {
			t.Fatalf("a value past the end")
		}
	})
}

// sameValues compares values bit for bit (NaN, stale markers included).
func sameValues(a, b []parser.SequenceValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Omitted != b[i].Omitted || math.Float64bits(a[i].Value) != math.Float64bits(b[i].Value) ||
			(a[i].Histogram == nil) != (b[i].Histogram == nil) {
			return false
		}
	}
	return true
}
