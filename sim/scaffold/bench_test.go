package scaffold_test

import (
	"context"
	"path/filepath"
	"testing"

	"aviary.dev/aviary/sim/scaffold"
)

// BenchmarkGenerate is what aviary init spends on the Canaries of the library and the
// examples: loading each policy, calibrating application counters, writing the five
// scenarios and running each once to confirm its expectations.
func BenchmarkGenerate(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "scenarios")
	b.Run("podinfo", func(b *testing.B) {
		for b.Loop() {
			if _, err := scaffold.Generate(context.Background(), scaffold.Options{Files: canaries[0], Dir: dir}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library-and-examples", func(b *testing.B) {
		for b.Loop() {
			for _, files := range canaries {
				if _, err := scaffold.Generate(context.Background(), scaffold.Options{Files: files, Dir: dir}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
