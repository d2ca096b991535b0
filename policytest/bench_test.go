package policytest_test

import (
	"context"
	"testing"

	"aviary.dev/aviary/policytest"
)

// BenchmarkRun is a fast-mode run from Go of a library scenario, load included:
// what one policytest.Run costs a team's test.
func BenchmarkRun(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		rec, err := policytest.Run(context.Background(), burstFile)
		if err != nil || !rec.RolledBack() {
			b.Fatalf("run: %v, phase %v", err, rec)
		}
	}
}
