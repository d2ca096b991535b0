package lint_test

import (
	"testing"

	"aviary.dev/aviary/lint"
)

// BenchmarkLintLibrary lints the whole scenario library (`aviary lint scenarios/`):
// every scenario file through its policy, every Canary of the policy files with the
// files that fit, the templates alone. The contract: under 0.5 s.
func BenchmarkLintLibrary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := lint.Lint([]string{library}, lint.Config{})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Findings) == 0 {
			b.Fatal("no findings in the library")
		}
	}
}
