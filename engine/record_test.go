package engine_test

import (
	"fmt"
	"math"
	"reflect"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
)

// fullRecord is a tick record with every field set.
func fullRecord() engine.TickRecord {
	v, lo, hi := 1.5, 1.0, 2.0
	return engine.TickRecord{
		At: time.Unix(60, 0), Canary: "podinfo.test", PhaseBefore: "Progressing", Phase: "Progressing", Step: "run-metrics",
		PrimaryWeight: 90, CanaryWeight: 10, Mirrored: true, FailedChecks: 1, Iterations: 2,
		Metrics: []analysis.Result{{Name: "m", Kind: "query", Query: "q", Value: &v, NaN: true, Min: &lo, Max: &hi,
			Outcome: analysis.OutcomeFail, EventType: "Warning", Message: "halt"}},
		Hooks:  []hooks.Call{{Name: "h", Type: "rollout", URL: "http://h", Phase: "Progressing", OK: true, Error: "e"}},
		Routes: []engine.RouteChange{{Primary: 90, Canary: 10, Mirrored: true}},
		Events: []engine.Event{{Type: "Warning", Message: "m", Phase: "Progressing"}},
		Alerts: []engine.Alert{{Severity: "warn", Message: "m", Global: true, Error: "e",
			Fields:     []engine.AlertField{{Name: "n", Value: "v"}},
			Recipients: []engine.AlertRecipient{{Alert: "a", Severity: "info", Provider: "p", Type: "slack", Channel: "c", Error: "e"}}}},
		Error: "boom",
	}
}

// mutateNth changes the n-th value reachable from v (depth first: every string,
// number, bool, pointer and slice length, At aside) and says what it changed; ""
// when v has fewer than n+1 of them.
func mutateNth(v reflect.Value, path string, n *int) string {
	leaf := func(change func()) string {
		if *n == 0 {
			change()
			return path
		}
		*n--
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		return leaf(func() { v.SetString(v.String() + "x") })
	case reflect.Int:
		return leaf(func() { v.SetInt(v.Int() + 1) })
	case reflect.Bool:
		return leaf(func() { v.SetBool(!v.Bool()) })
	case reflect.Float64:
		return leaf(func() { v.SetFloat(v.Float() + 1) })
	case reflect.Pointer:
		if v.IsNil() {
			return leaf(func() { v.Set(reflect.New(v.Type().Elem())) })
		}
		if p := leaf(func() { v.Set(reflect.Zero(v.Type())) }); p != "" {
			return p + " (nil)"
		}
		return mutateNth(v.Elem(), path, n)
	case reflect.Slice:
		if p := leaf(func() { v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem()))) }); p != "" {
			return p + " (one more)"
		}
		for i := range v.Len() {
			if p := mutateNth(v.Index(i), fmt.Sprintf("%s[%d]", path, i), n); p != "" {
				return p
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return ""
		}
		for i := range v.NumField() {
			if p := mutateNth(v.Field(i), path+"."+v.Type().Field(i).Name, n); p != "" {
				return p
			}
		}
	default:
		Fail(fmt.Sprintf("%s: a %s: teach mutateNth (and TickRecord.SameAs) about it", path, v.Kind()))
	}
	return ""
}

var _ = Describe("TickRecord.SameAs", func() {
	It("tells apart records that differ anywhere but in At", func() {
		a, b := fullRecord(), fullRecord()
		b.At = b.At.Add(time.Minute)
		Expect(a.SameAs(&b)).To(BeTrue(), "the same but for At")
		changed := 0
		for i := 0; ; i++ {
			b := fullRecord()
			n := i
			path := mutateNth(reflect.ValueOf(&b).Elem(), "record", &n)
			if path == "" {
				break
			}
			Expect(a.SameAs(&b)).To(BeFalse(), "%s changed", path)
			Expect(b.SameAs(&a)).To(BeFalse(), "%s changed", path)
			changed++
		}
		Expect(changed).To(BeNumerically(">", 50))
	})

	It("compares numbers by their bits, as the record's JSON does", func() {
		a, b := fullRecord(), fullRecord()
		zero, negZero := 0.0, math.Copysign(0, -1)
		a.Metrics[0].Value, b.Metrics[0].Value = &zero, &negZero
		Expect(a.SameAs(&b)).To(BeFalse())
		inf := math.Inf(1)
		a.Metrics[0].Value, b.Metrics[0].Value = &inf, &inf
		Expect(a.SameAs(&b)).To(BeTrue())
	})
})
