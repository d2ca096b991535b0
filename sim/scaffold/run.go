package scaffold

import (
	"context"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// maxCalibrated is how many application counters calibrate tries values for: each
// run tries 2^n of them.
const maxCalibrated = 6

// runner runs scenarios in fast mode with one PromQL engine, scheme and memo of the
// API server's verdicts, as a suite does.
type runner struct{ opts sim.RunOptions }

func newRunner() (*runner, error) {
	scheme, err := cluster.NewScheme()
	if err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	return &runner{opts: sim.RunOptions{PromEngine: promstore.NewEngine(), Scheme: scheme, Verdicts: cluster.NewVerdicts()}}, nil
}

// run loads a scenario's bytes as the file path and runs it.
func (r *runner) run(ctx context.Context, path string, data []byte) (*scenario.Loaded, *scenario.Result, error) {
	ld, err := scenario.Load(path, data, scenario.LoadOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("aviary init wrote a scenario the loader refuses (a bug): %w", err)
	}
	res, err := sim.Run(ctx, ld, r.opts)
	if err != nil {
		return ld, nil, fmt.Errorf("running %s: %w", path, err)
	}
	return ld, res, nil
}

// failed are the expectations of ld that do not hold on res, as aviary test words them.
func failed(ld *scenario.Loaded, res *scenario.Result) []string {
	var out []string
	for _, e := range scenario.Check(ld.Scenario.Spec.Expect, res) {
		if !e.OK {
			out = append(out, fmt.Sprintf("%s: expected %s, observed %s", e.Name, e.Expected, e.Observed))
		}
	}
	return out
}

// calibrate gives the application counters the checks read the first values per
// request, 0 or 1 each (fewest ones first), under which the healthy scenario's
// expectations hold: an error counter that stays at 0, a total that counts every
// request. They are the user's to correct; the notes say so.
func (p *plan) calibrate(ctx context.Context) error {
	if len(p.counters) == 0 {
		return nil
	}
	names := make([]string, len(p.counters))
	for i, c := range p.counters {
		names[i] = c.name
	}
	if len(p.counters) > maxCalibrated {
		p.notes = append(p.notes, fmt.Sprintf("counters %s: more than %d, so aviary gives each 0 per request without trying others: set what your application counts", strings.Join(names, ", "), maxCalibrated))
		return nil
	}
	n := len(p.counters)
	masks := make([]int, 1<<n)
	for i := range masks {
		masks[i] = i
	}
	slices.SortStableFunc(masks, func(a, b int) int { return bits.OnesCount(uint(a)) - bits.OnesCount(uint(b)) })
	for _, mask := range masks {
		for i := range p.counters {
			p.counters[i].value = float64(mask >> i & 1)
		}
		_, ok, err := p.runHealthy(ctx)
		if err != nil {
			return err
		}
		if ok {
			p.notes = append(p.notes, fmt.Sprintf("counters %s: aviary cannot know what your application counts; it gives them %s per request, the first values it tried under which every check of a healthy version passes. Set what a healthy (and a faulty) version of yours counts",
				strings.Join(names, ", "), p.counterValues()))
			return nil
		}
	}
	for i := range p.counters {
		p.counters[i].value = 0
	}
	p.notes = append(p.notes, fmt.Sprintf("counters %s: no values of 0 or 1 per request let every check of a healthy version pass: set what your application counts, or the healthy scenarios fail", strings.Join(names, ", ")))
	return nil
}

// runHealthy runs the healthy scenario as the plan now writes it: its run, and
// whether its expectations hold.
func (p *plan) runHealthy(ctx context.Context) (*scenario.Result, bool, error) {
	r, err := p.runner()
	if err != nil {
		return nil, false, err
	}
	d := p.healthy()
	path, data, err := p.file(d, d.expect)
	if err != nil {
		return nil, false, err
	}
	ld, res, err := r.run(ctx, path, data)
	if err != nil {
		return nil, false, err
	}
	return res, len(failed(ld, res)) == 0, nil
}

// judge runs the healthy scenario: a policy under which it does not hold (a check
// that fails a version with no errors and low latency, a series the world lacks) is
// broken, a finding every scenario carries.
func (p *plan) judge(ctx context.Context) error {
	if p.cd.SkipAnalysis() {
		p.broken = "spec.skipAnalysis is true: Flagger promotes every revision at once, without a check, whatever it does; each scenario expects what its run does"
		return nil
	}
	res, ok, err := p.runHealthy(ctx)
	if err != nil || ok {
		return err
	}
	why := "it ends " + res.Phase
	if len(p.ld.Warnings) > 0 {
		why += " (see the warnings about the policy)"
	}
	if w := firstWarning(res, p.rev+p.firstStep()); w != "" {
		why = strconv.Quote(w)
	}
	p.broken = fmt.Sprintf("the Canary does not promote a healthy version (no errors, P99 %s): %s; each scenario expects what its run does",
		engine.FormatDuration(healthyP99(p.checks)), why)
	return nil
}

// firstWarning is the first Warning event of res from `from` on that is not the
// rollback's own, "" when there is none.
func firstWarning(res *scenario.Result, from time.Duration) string {
	for t := range res.EachTick() {
		if t.At.Sub(scenario.Epoch) < from {
			continue
		}
		for _, e := range t.Events {
			if e.Type == "Warning" && !strings.HasPrefix(e.Message, "Rolling back") && !strings.HasPrefix(e.Message, "Canary failed") {
				return e.Message
			}
		}
	}
	return ""
}

func (p *plan) counterValues() string {
	s := make([]string, len(p.counters))
	for i, c := range p.counters {
		s[i] = fmt.Sprintf("%s %g", c.name, c.value)
	}
	return strings.Join(s, ", ")
}

func (p *plan) runner() (*runner, error) {
	if p.run != nil {
		return p.run, nil
	}
	r, err := newRunner()
	p.run = r
	return r, err
}

// finish writes a draft and runs it: a draft whose outcome only a run tells
// (observe) expects the run's phase; any expectation that does not hold is a problem
// of the file.
func (p *plan) finish(ctx context.Context, d draft) (File, error) {
	r, err := p.runner()
	if err != nil {
		return File{}, err
	}
	expect := d.expect
	if p.broken != "" {
		d.observe, d.findings = p.broken, []string{p.broken}
	}
	if d.observe != "" {
		path, data, err := p.file(d, nil)
		if err != nil {
			return File{}, err
		}
		_, res, err := r.run(ctx, path, data)
		if err != nil {
			return File{}, err
		}
		control := "what the run does is all the expectation says: aviary could not compute it from the policy (above)"
		d.summary = res.Phase + " as the run shows: " + d.observe
		if p.broken != "" {
			control = "the policy decides this run, not the world (FINDING above)"
			d.summary = res.Phase + " as the run shows (FINDING below)"
		}
		if d.ifPromoted != "" && res.Phase == string(v1beta1.CanaryPhaseSucceeded) {
			d.findings = append(d.findings, d.ifPromoted)
			d.summary = res.Phase + " (FINDING): " + d.ifPromoted
		}
		expect = []field{
			{key: "phase", value: str(res.Phase), comment: "what the run does (see above)"},
			{key: "control", value: mapping(field{key: "none", value: str(control)})},
		}
	}
	path, data, err := p.file(d, expect)
	if err != nil {
		return File{}, err
	}
	ld, res, err := r.run(ctx, path, data)
	if err != nil {
		return File{}, err
	}
	f := File{Path: path, Name: p.name(d), Data: data, Summary: d.summary, Findings: d.findings, Problems: failed(ld, res)}
	for _, w := range ld.Warnings {
		if !slices.Contains(p.ld.Warnings, w) {
			f.Problems = append(f.Problems, "warning: "+w)
		}
	}
	return f, nil
}

func (p *plan) name(d draft) string { return p.cd.Name + "-" + d.suffix }

// file is a draft as a scenario file with the expectations expect: its path and bytes.
func (p *plan) file(d draft, expect []field) (string, []byte, error) {
	name := p.name(d)
	spec := []field{{key: "policy", value: mapping(field{key: "files", value: flowSeq(strNodes(p.files)...)})}}
	if p.ld.Target == nil {
		spec = append(spec, field{key: "target", value: flow(field{key: "replicas", value: num(replicas)}, field{key: "image", value: str(p.image)})})
	}
	spec = append(spec, field{key: "world", value: p.world(d.faults)})
	if hooks := p.rollbackHooks(); len(hooks) > 0 {
		hs := seq()
		for _, h := range hooks {
			hs.Content = append(hs.Content, flow(field{key: "name", value: str(h)},
				field{key: "responses", value: flowSeq(flow(field{key: "status", value: num(403)}))}))
		}
		spec = append(spec, field{key: "hooks", value: hs, comment: "a rollback webhook answering 200 would roll back at once"})
	}
	spec = append(spec,
		field{key: "timeline", value: seq(d.timeline...)},
		field{key: "until", value: dur(d.until)},
	)
	if len(expect) > 0 {
		spec = append(spec, field{key: "expect", value: mapping(expect...)})
	}
	doc := mapping(
		field{key: "apiVersion", value: str(scenario.ScenarioAPIVersion)},
		field{key: "kind", value: str(scenario.ScenarioKind)},
		field{key: "metadata", value: mapping(field{key: "name", value: str(name)}, field{key: "description", value: folded(d.description)})},
		field{key: "spec", value: mapping(spec...)},
	)
	data, err := render(p.header(d), doc)
	return filepath.Join(p.dir, name+".yaml"), data, err
}

func strNodes(ss []string) []*yaml.Node {
	out := make([]*yaml.Node, len(ss))
	for i, s := range ss {
		out[i] = str(s)
	}
	return out
}

// header is the comment at the top of a scenario file.
func (p *plan) header(d draft) []string {
	h := []string{
		fmt.Sprintf("Generated by aviary init from %s (Canary %s).", strings.Join(p.given, ", "), p.canary()),
		"The policy files are referenced, not copied: the Canary there is the one source.",
		"Expectations are computed from the Canary as Flagger reads it: " + p.summary() + ".",
		fmt.Sprintf("The new revision comes at %s, after initialization. Each expectation's comment says how it was computed.", engine.FormatDuration(p.rev)),
	}
	for _, f := range d.findings {
		h = append(h, "", "FINDING: "+f+".")
	}
	for _, n := range p.notes {
		h = append(h, "", "NOTE: "+n+".")
	}
	return h
}
