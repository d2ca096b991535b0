package world_test

import (
	"strings"
	"testing"

	"aviary.dev/aviary/sim/world"
)

// FuzzParseRawSeries feeds arbitrary scenario series to the parser: it must never
// panic, every error must say something, and every success must be a usable series.
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
