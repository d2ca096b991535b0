package lint

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/scenario"
)

// Report is what a lint found.
type Report struct {
	// Findings are de-duplicated and sorted by file, line and rule.
	Findings []Finding
	// Files are the files linted; Canaries how many Canaries (scenario policies
	// included) were linted.
	Files    []string
	Canaries int
	// Skipped are YAML files that are not Kubernetes manifests (a document without
	// kind: Helm values, configuration) and were not linted.
	Skipped []string
}

// Count is how many findings are at or above severity s.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

// Lint checks the policies in paths (files, or directories searched recursively for
// *.yaml and *.yml): a scenario file (kind: Scenario) through its own policy, every
// Canary of the other files with the objects those files hold, and the
// MetricTemplates no Canary was linted with alone. The error is for unusable input
// only (a path that cannot be read, invalid YAML, a policy the loader refuses for
// another reason than an apiVersion no longer served): every error names its file.
func Lint(paths []string, cfg Config) (*Report, error) {
	files, err := scenario.YAMLFiles(paths)
	if err != nil {
		return nil, err
	}
	l := &linter{cfg: cfg, report: &Report{Files: files}, docs: map[string][]scenario.PolicyDocument{}}
	var scenarios, policies []string
	for _, f := range files {
		docs, err := scenario.PolicyDocuments(f)
		if err != nil {
			return nil, err
		}
		switch {
		case len(docs) > 0 && docs[0].Kind == "Scenario":
			scenarios = append(scenarios, f)
		case slices.ContainsFunc(docs, func(d scenario.PolicyDocument) bool { return d.Kind == "" }):
			l.report.Skipped = append(l.report.Skipped, f)
		case len(docs) > 0:
			policies = append(policies, f)
			l.docs[f] = docs
		}
	}
	for _, f := range scenarios {
		if err := l.lintScenario(f); err != nil {
			return nil, err
		}
	}
	if err := l.lintPolicies(policies); err != nil {
		return nil, err
	}
	l.report.Findings = sortFindings(l.report.Findings)
	return l.report, nil
}

// linter holds one Lint's state.
type linter struct {
	cfg    Config
	report *Report
	// docs are the documents of each policy file.
	docs map[string][]scenario.PolicyDocument
	// linted are the MetricTemplate documents ("file:line") linted with a Canary.
	linted map[string]bool
}

// lintScenario lints a scenario file's policy, judging rate windows by its world's
// scrape interval unless one was given.
func (l *linter) lintScenario(file string) error {
	ld, err := scenario.LoadFile(file)
	if err != nil {
		return l.loadError(err)
	}
	cfg := l.cfg
	if cfg.ScrapeInterval == 0 {
		cfg.ScrapeInterval = ld.Scenario.Spec.World.ScrapeInterval.Duration
	}
	l.lint(&Input{Loaded: ld, Config: cfg}, func(scenario.Warning) bool { return true })
	return nil
}

// generated is the name of the scenario lint writes to load policy files: relative
// policy paths stay relative to the working directory. Warnings about its own
// objects (the placeholder Canary) are dropped.
const generated = "aviary-lint.yaml"

// placeholderCanary is the Canary MetricTemplates no linted Canary references are
// rendered for.
const placeholderCanary = "aviary-lint-placeholder"

// lintPolicies lints every Canary of the policy files, then each MetricTemplate
// document no Canary was linted with: with a Canary that references it (loading
// the template's file rather than another defining the same template), else with a
// placeholder Canary.
func (l *linter) lintPolicies(files []string) error {
	l.linted = map[string]bool{}
	var canaries, templates []scenario.PolicyDocument
	for _, f := range files {
		for _, d := range l.docs[f] {
			switch d.Kind {
			case v1beta1.CanaryKind:
				canaries = append(canaries, d)
			case v1beta1.MetricTemplateKind:
				templates = append(templates, d)
			}
		}
	}
	// refs are the templates ("namespace/name") each linted Canary references
	refs := map[scenario.PolicyDocument][]string{}
	for _, c := range canaries {
		ld, err := l.lintCanary(files, []string{c.File}, namespaced(c), "")
		if err != nil {
			return err
		}
		if ld != nil {
			refs[c] = referencedTemplates(ld)
		}
	}
	for _, t := range templates {
		if l.linted[docKey(t)] {
			continue
		}
		for _, c := range canaries {
			if slices.Contains(refs[c], namespaced(t)) {
				if _, err := l.lintCanary(files, []string{c.File, t.File}, namespaced(c), ""); err != nil {
					return err
				}
				break
			}
		}
		if !l.linted[docKey(t)] {
			if _, err := l.lintCanary(files, []string{t.File}, "", namespaceOf(t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// referencedTemplates are the templates ("namespace/name") a loaded Canary's
// metrics reference.
func referencedTemplates(ld *scenario.Loaded) []string {
	var out []string
	if a := ld.Canary.GetAnalysis(); a != nil {
		for _, m := range a.Metrics {
			if m.TemplateRef != nil {
				ns := m.TemplateRef.Namespace
				if ns == "" {
					ns = ld.Canary.Namespace
				}
				out = append(out, ns+"/"+m.TemplateRef.Name)
			}
		}
	}
	return out
}

// lintCanary loads the Canary named canary ("namespace/name") with the policy files
// that fit with the files of first (no two files defining one object), or, when
// canary is "", a placeholder Canary in namespace ns, and lints it: with a Canary,
// the templates it references; with the placeholder, the templates no Canary was
// linted with. It returns what it loaded, nil when that was a policy bug (a finding).
func (l *linter) lintCanary(files, first []string, canary, ns string) (*scenario.Loaded, error) {
	chosen := l.fileSet(files, first, canary)
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: aviary.dev/v1alpha1\nkind: Scenario\nmetadata: {name: aviary-lint}\nspec:\n  policy:\n    files:\n")
	for _, f := range chosen {
		fmt.Fprintf(&b, "      - %q\n", f)
	}
	templateOnly := canary == ""
	if templateOnly {
		canary = ns + "/" + placeholderCanary
		fmt.Fprintf(&b, "    objects:\n      - apiVersion: flagger.app/v1beta1\n        kind: Canary\n"+
			"        metadata: {name: %s, namespace: %q}\n        spec:\n"+
			"          targetRef: {apiVersion: apps/v1, kind: Deployment, name: app}\n          service: {port: 80}\n"+
			"          analysis: {interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10}\n", placeholderCanary, ns)
	}
	ld, err := scenario.Load(generated, []byte(b.String()), scenario.LoadOptions{Canary: canary, OtherKinds: true})
	if err != nil {
		return nil, l.loadError(err)
	}
	in := &Input{Loaded: ld, Config: l.cfg, templateOnly: templateOnly}
	// unreferenced templates are linted once, with a Canary that references them or
	// the placeholder
	lintedHere := map[*v1beta1.MetricTemplate]bool{}
	refs := referencedTemplates(ld)
	for _, t := range ld.Templates {
		key := l.templateKey(ld, t)
		if slices.Contains(refs, t.Namespace+"/"+t.Name) || (templateOnly && !l.linted[key]) {
			lintedHere[t] = true
		}
	}
	in.skip = func(t *v1beta1.MetricTemplate) bool { return !lintedHere[t] }
	l.lint(in, func(w scenario.Warning) bool {
		if w.File == generated {
			return false
		}
		for _, t := range ld.Templates {
			if !lintedHere[t] && w.Object == "MetricTemplate "+t.Name {
				return false
			}
		}
		return !templateOnly || isTemplate(w.Object)
	})
	for t := range lintedHere {
		l.linted[l.templateKey(ld, t)] = true
	}
	return ld, nil
}

// templateKey is where a loaded template's document starts ("file:line").
func (l *linter) templateKey(ld *scenario.Loaded, t *v1beta1.MetricTemplate) string {
	file, line, _, _ := ld.Where(t, "")
	return fmt.Sprintf("%s:%d", file, line)
}

// fileSet is the files of first and those that define none of the objects already chosen
// (of the Canaries only canary: the loader keeps no other), in order.
func (l *linter) fileSet(files, first []string, canary string) []string {
	objects := map[string]bool{}
	var out []string
	for _, f := range append(slices.Clone(first), files...) {
		if slices.Contains(out, f) {
			continue
		}
		var keys []string
		clash := false
		for _, d := range l.docs[f] {
			if d.Kind == v1beta1.CanaryKind && namespaced(d) != canary {
				continue
			}
			k := d.Kind + " " + namespaced(d)
			clash = clash || objects[k]
			keys = append(keys, k)
		}
		if clash {
			continue
		}
		for _, k := range keys {
			objects[k] = true
		}
		out = append(out, f)
	}
	return out
}

func namespaceOf(d scenario.PolicyDocument) string {
	if d.Namespace == "" {
		return scenario.DefaultNamespace
	}
	return d.Namespace
}

func namespaced(d scenario.PolicyDocument) string { return namespaceOf(d) + "/" + d.Name }

func docKey(d scenario.PolicyDocument) string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// lint runs every rule on in and adds the loader's warnings that keep says to.
func (l *linter) lint(in *Input, keep func(scenario.Warning) bool) {
	if !in.templateOnly {
		l.report.Canaries++
	}
	for _, w := range in.Loaded.PolicyWarnings {
		if keep(w) {
			l.report.Findings = append(l.report.Findings, warningFinding(w))
		}
	}
	for _, r := range Rules() {
		if r.Check == nil {
			continue
		}
		for _, f := range r.Check(in) {
			// the placeholder Canary is no policy of the user's: only what is found
			// in the templates is reported
			if !in.templateOnly || isTemplate(f.Object) {
				l.report.Findings = append(l.report.Findings, f)
			}
		}
	}
}

// isTemplate reports whether a finding's or warning's object is a MetricTemplate.
func isTemplate(object string) bool { return strings.HasPrefix(object, "MetricTemplate ") }

// warningFinding is a loader warning as a finding of its rule.
func warningFinding(w scenario.Warning) Finding {
	f := Finding{Rule: w.Rule, Severity: Warning, File: w.File, Line: w.Line, Object: w.Object, Field: w.Field, Message: w.Msg}
	if r := RuleByID(w.Rule); r != nil {
		f.Severity, f.Fix = r.Severity, strings.Replace(r.Fix, "FILE", w.File, 1)
	}
	return f
}

// loadError turns the load errors that are policy bugs (an apiVersion no longer
// served) into findings; any other makes the input unusable.
func (l *linter) loadError(err error) error {
	var found []Finding
	for _, e := range flatten(err) {
		var le *scenario.LoadError
		if !errors.As(e, &le) || le.Path != "apiVersion" || !strings.Contains(le.Msg, "aviary convert") {
			return err
		}
		found = append(found, Finding{Rule: apiRemoved.ID, Severity: apiRemoved.Severity, File: le.File, Line: le.Line,
			Object: le.Object, Field: le.Path, Message: le.Msg, Fix: strings.Replace(apiRemoved.Fix, "FILE", le.File, 1)})
	}
	l.report.Findings = append(l.report.Findings, found...)
	return nil
}

// flatten is the errors joined in err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// sortFindings sorts by file, line, rule (then field and message) and drops
// duplicates.
func sortFindings(fs []Finding) []Finding {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Field, b.Field), cmp.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(fs, func(a, b Finding) bool {
		return a.Rule == b.Rule && a.File == b.File && a.Line == b.Line && a.Field == b.Field && a.Message == b.Message
	})
}
