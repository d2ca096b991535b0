package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSuiteParallel runs `aviary test` on the scenario library repeated
// suiteRepeats times (what a sweep of many runs looks like), with --parallel 1
// and then --parallel 2 in the same op, as the aviary command runs (its GC
// settings: tuneGC). It reports each one's wall time ("p1-ms", "p2-ms"), the
// speed-up ("speedup-x") and how many CPUs each kept busy ("p1-cpus", "p2-cpus": CPU
// time over wall time). Loading the suite before any run starts takes the same
// time at either parallelism ("load-ms", measured as an invocation whose --run
// matches nothing); "runs-speedup-x" is the speed-up of what follows it. A speed-up
// well below p2-cpus/p1-cpus means the workers waited for each other; p2-cpus well
// below 2, that the machine had no second core to give (other work).
func BenchmarkSuiteParallel(b *testing.B) {
	dir := repeatedLibrary(b, suiteRepeats)
	defer tuneGC(context.Background(), []string{"test"})()
	invoke := func(want int, args ...string) (wall, cpu time.Duration) {
		var stdout, stderr bytes.Buffer
		cpu0, start := processCPU(b), time.Now()
		code := run(context.Background(), args, &stdout, &stderr)
		wall, cpu = time.Since(start), processCPU(b)-cpu0
		if code != want {
			b.Fatalf("aviary %v: exit %d, want %d: %s", args, code, want, stderr.String())
		}
		return wall, cpu
	}
	suite := func(parallel int) (wall, cpu time.Duration) {
		return invoke(exitOK, "test", "--parallel", strconv.Itoa(parallel), dir)
	}
	suite(2) // what a process builds once (the API server's validators) is not a suite's cost
	var load, p1, p2, cpu1, cpu2 time.Duration
	b.ResetTimer()
	for b.Loop() {
		l, _ := invoke(exitInvalid, "test", "--run", "^$", dir)
		w1, c1 := suite(1)
		w2, c2 := suite(2)
		load, p1, p2, cpu1, cpu2 = load+l, p1+w1, p2+w2, cpu1+c1, cpu2+c2
	}
	n := float64(b.N)
	b.ReportMetric(float64(load.Milliseconds())/n, "load-ms")
	b.ReportMetric(float64(p1.Milliseconds())/n, "p1-ms")
	b.ReportMetric(float64(p2.Milliseconds())/n, "p2-ms")
	b.ReportMetric(float64(p1)/float64(p2), "speedup-x")
	b.ReportMetric(float64(p1-load)/float64(p2-load), "runs-speedup-x")
	b.ReportMetric(float64(cpu1)/float64(p1), "p1-cpus")
	b.ReportMetric(float64(cpu2)/float64(p2), "p2-cpus")
}

// suiteRepeats is how many copies of the library BenchmarkSuiteParallel runs: 410
// scenarios, enough that the end of a suite, where one worker waits for the other's
// last run, is a small part of it.
const suiteRepeats = 10

// repeatedLibrary copies the scenario library n times into a directory, each
// scenario renamed <name>-<i> (names are unique in a suite), and returns it.
func repeatedLibrary(b *testing.B, n int) string {
	files, err := filepath.Glob(filepath.Join(scenarioDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no scenarios in %s: %v", scenarioDir, err)
	}
	policies, err := filepath.Glob(filepath.Join(scenarioDir, "policies", "*.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	write := func(path string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		copyDir := filepath.Join(dir, strconv.Itoa(i))
		for _, p := range policies {
			write(filepath.Join(copyDir, "policies", filepath.Base(p)), readOrFail(b, p))
		}
		for _, p := range files {
			data := readOrFail(b, p)
			at := scenarioName.FindSubmatchIndex(data)
			if at == nil {
				b.Fatalf("%s: no metadata.name", p)
			}
			renamed := append(append(append([]byte{}, data[:at[3]]...), fmt.Sprintf("-%d", i)...), data[at[3]:]...)
			write(filepath.Join(copyDir, filepath.Base(p)), renamed)
		}
	}
	return dir
}

// scenarioName finds a library scenario's metadata.name (the first key indented
// by two spaces named name).
var scenarioName = regexp.MustCompile(`(?m)^  name: (\S+)`)

func readOrFail(b *testing.B, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// processCPU is the CPU time (user and system) the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
