package scale_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"aviary.dev/aviary/e2e"
)

// controllerBinary is the aviary binary under test: $AVIARY_SCALE_AVIARY, else aviary
// built from this module into a temporary directory. It inherits the benchmark's
// environment (GOGC, GOMEMLIMIT).
func controllerBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("AVIARY_SCALE_AVIARY"); p != "" {
		return p
	}
	path := filepath.Join(b.TempDir(), "aviary")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/aviary")
	root, err := e2e.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/aviary: %v\n%s", err, out)
	}
	if out, err := exec.Command(path, "controller", "--help").CombinedOutput(); err != nil {
		b.Fatalf("%s has no working `controller` command: %v\n%s", path, err, out)
	}
	return path
}
