package scale

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Memory is a process's resident memory as the kernel counts it, in bytes.
type Memory struct {
	// RSS is the resident set now (VmRSS), HWM its peak so far (VmHWM).
	RSS, HWM uint64
}

// ReadMemory reads VmRSS and VmHWM of process pid from /proc/PID/status (Linux).
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmRSS and VmHWM ("VmRSS:\t  123456 kB") from a /proc status file.
func parseStatus(r io.Reader) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		var into *uint64
		switch key {
		case "VmRSS":
			into = &m.RSS
		case "VmHWM":
			into = &m.HWM
		}
		if !ok || into == nil {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("/proc status: %s: want \"<n> kB\", got %q", key, strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("/proc status: %s: %w", key, err)
		}
		*into = kb * 1024
		found++
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("/proc status: %w", err)
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("/proc status: VmRSS and VmHWM not both found (a kernel thread or a process that ended?)")
	}
	return m, nil
}

// Exposition is one scrape of a Prometheus text exposition, by metric family.
type Exposition map[string]*dto.MetricFamily

// ParseExposition reads a text exposition (what /metrics serves).
func ParseExposition(r io.Reader) (Exposition, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("exposition: %w", err)
	}
	return fams, nil
}

// Sum is the sum of the counter or gauge name over all its label sets (0 when absent).
func (e Exposition) Sum(name string) float64 {
	f, ok := e[name]
	if !ok {
		return 0
	}
	var s float64
	for _, m := range f.Metric {
		switch {
		case m.Counter != nil:
			s += m.Counter.GetValue()
		case m.Gauge != nil:
			s += m.Gauge.GetValue()
		case m.Untyped != nil:
			s += m.Untyped.GetValue()
		}
	}
	return s
}

// Histogram is a classic Prometheus histogram summed over its label sets.
type Histogram struct {
	// Bounds are the buckets' upper bounds in increasing order, +Inf last; Counts
	// are their cumulative counts.
	Bounds, Counts []float64
	Sum            float64
}

// Count is how many observations the histogram holds.
func (h Histogram) Count() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Histogram sums the histogram name over its label sets; every set must have the
// same buckets. An absent histogram is empty.
func (e Exposition) Histogram(name string) (Histogram, error) { return e.HistogramOf(name, nil) }

// HistogramOf is Histogram over the label sets keep (nil: all) keeps.
func (e Exposition) HistogramOf(name string, keep func(labels map[string]string) bool) (Histogram, error) {
	f, ok := e[name]
	if !ok {
		return Histogram{}, nil
	}
	var h Histogram
	for _, m := range f.Metric {
		if keep != nil {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if !keep(labels) {
				continue
			}
		}
		if m.Histogram == nil {
			return Histogram{}, fmt.Errorf("%s is a %s, not a histogram", name, f.GetType())
		}
		var bounds, counts []float64
		for _, b := range m.Histogram.Bucket {
			bounds = append(bounds, b.GetUpperBound())
			counts = append(counts, float64(b.GetCumulativeCount()))
		}
		if len(bounds) == 0 || !math.IsInf(bounds[len(bounds)-1], 1) {
			bounds = append(bounds, math.Inf(1))
			counts = append(counts, float64(m.Histogram.GetSampleCount()))
		}
		if h.Bounds == nil {
			h.Bounds, h.Counts = bounds, make([]float64, len(bounds))
		} else if !slices.Equal(h.Bounds, bounds) {
			return Histogram{}, fmt.Errorf("%s: label sets with different buckets (%v, %v)", name, h.Bounds, bounds)
		}
		for i, c := range counts {
			h.Counts[i] += c
		}
		h.Sum += m.Histogram.GetSampleSum()
	}
	return h, nil
}

// Since is what h observed after earlier, a scrape of the same histogram before it.
func (h Histogram) Since(earlier Histogram) (Histogram, error) {
	if earlier.Bounds == nil {
		return h, nil
	}
	if !slices.Equal(h.Bounds, earlier.Bounds) {
		return Histogram{}, fmt.Errorf("histogram buckets changed between scrapes (%v, %v)", earlier.Bounds, h.Bounds)
	}
	d := Histogram{Bounds: h.Bounds, Counts: make([]float64, len(h.Counts)), Sum: h.Sum - earlier.Sum}
	for i := range h.Counts {
		d.Counts[i] = h.Counts[i] - earlier.Counts[i]
	}
	return d, nil
}

// Quantile estimates the q-quantile (0 < q < 1) as PromQL's histogram_quantile does:
// linearly within the bucket the rank falls in, the first bucket starting at 0; a rank
// in the +Inf bucket is the highest finite bound. NaN when the histogram is empty.
// Its resolution is the width of that bucket.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Count()
	if total == 0 || len(h.Bounds) < 2 {
		return math.NaN()
	}
	rank := q * total
	i, _ := slices.BinarySearchFunc(h.Counts, rank, func(c, r float64) int {
		if c < r {
			return -1
		}
		return 1
	})
	if i >= len(h.Bounds)-1 {
		return h.Bounds[len(h.Bounds)-2]
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.Bounds[i-1], h.Counts[i-1]
	}
	inBucket := h.Counts[i] - below
	return lower + (h.Bounds[i]-lower)*(rank-below)/inBucket
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// ReadCPU is the CPU time process pid has used so far (user + system, from
// /proc/PID/stat).
func ReadCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	return parseStat(string(data))
}

// parseStat reads utime and stime (fields 14 and 15) of a /proc stat line; the
// command name (field 2, in parentheses) may hold spaces and parentheses.
func parseStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name in %q", line)
	}
	fields := strings.Fields(line[i+1:]) // from field 3 (state) on
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	var total uint64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: CPU time %q: %w", f, err)
		}
		total += v
	}
	return time.Duration(total) * time.Second / clockTicks, nil
}
