package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/world"
)

// Defaults the loader applies to fields a scenario leaves out
// (docs/scenario-format.md); the world's are world.DefaultRPS and its neighbours.
const (
	DefaultReplicas     int32 = 1
	DefaultImage              = "app:1.0.0"
	DefaultStartupDelay       = 5 * time.Second
	DefaultUntil              = 60 * time.Minute
	// DefaultNamespace is the namespace of policy objects that name none.
	DefaultNamespace = "test"
)

// maxErrors bounds how many problems one file reports.
const maxErrors = 20

// Loaded is one scenario ready to run: the scenario with defaults applied and the
// policy objects it tests, decoded strictly.
type Loaded struct {
	// Scenario is the scenario; Scenario.File is the path it was loaded from.
	Scenario *Scenario
	// Canary is the one Canary of the policy; apiVersion aviary.dev/v1beta1, namespace set.
	Canary *v1beta1.Canary
	// Templates are the policy's MetricTemplates, in the order written.
	Templates []*v1beta1.MetricTemplate
	// AlertProviders are the policy's AlertProviders, in the order written.
	AlertProviders []*v1beta1.AlertProvider
	// Target is the Canary's target Deployment when the policy holds it (apps/v1, in
	// the Canary's namespace, named by targetRef): the run creates it as given. Nil when
	// the run generates the target from spec.target. spec.target's replicas and image
	// are the target's either way.
	Target *appsv1.Deployment
	// Objects are the policy's other Kubernetes objects (Services,
	// HorizontalPodAutoscalers, ConfigMaps, Secrets, other Deployments), decoded as
	// the API server stores them, in the order written, namespaces set. The run
	// creates them as given.
	Objects []client.Object
	// ReadinessFromProbes is true when spec.target.startupDelay is not written: a pod
	// whose containers have readiness probes becomes ready when the kubelet's probes
	// would first pass; other pods after spec.target.startupDelay's default.
	ReadinessFromProbes bool
	// FlaggerExact is true when the Canary was written as flagger.app/v1beta1: the run
	// reproduces Flagger 1.44 exactly ("Flagger-exact mode").
	FlaggerExact bool
	// lineOf is the line of a scenario field and docs the policy document each
	// object was decoded from: where run-time problems are (FieldError, ObjectError).
	lineOf func(path string) int
	docs   map[client.Object]*policyDoc

	// Warnings are problems that do not stop the run: values Flagger would read
	// otherwise than written (an interval it cannot parse, weights that never reach
	// maxWeight, a webhook timeout it cannot parse, ...), queries Flagger would trip on
	// at run time (a query that does not render or parse, a missing template, ...) and
	// alerts it would send nowhere (no severity, a missing provider, an address its
	// notifier refuses), each naming file, line and object; then expectations that
	// cannot fail (an events
	// pattern that matches any message, a count range that admits every reachable
	// count, a within not before until), each naming file, line and spec.expect field.
	Warnings []string
	// PolicyWarnings are the warnings of Warnings that are about the policy (all but
	// the expectations'), structured, each with its rule: what `aviary lint` reports.
	PolicyWarnings []Warning
}

// LoadError is one problem with a scenario or one of its policy files. Its text names
// the scenario, the file, the line and the field path, e.g.
//
//	scenario "podinfo-500": scenarios/x.yaml:12: spec.world.faults[2].from: bad duration "4q" (want a Go duration such as 30s or 5m)
//
// LoadFile and LoadPaths return one or several of them (joined with errors.Join);
// use errors.As to get at the fields.
type LoadError struct {
	// Scenario is the scenario's metadata.name, "" when it is not known.
	Scenario string
	// ScenarioFile is the scenario file; File is the file the problem is in (the
	// scenario file itself or one of its policy files).
	ScenarioFile string
	File         string
	// Line is the 1-based line in File, 0 when unknown.
	Line int
	// Object is the policy object the problem is in ("Canary podinfo"), "" for the scenario.
	Object string
	// Path is the field path, e.g. "spec.world.faults[2].from", "" when not about a field.
	Path string
	// Msg says what is wrong.
	Msg string

	// err is the run-time error Msg says, if any (FieldError, ObjectError).
	err error
}

// Unwrap is the run-time error the problem was made from, nil for a load error.
func (e *LoadError) Unwrap() error { return e.err }

func (e *LoadError) Error() string {
	var b strings.Builder
	other := e.ScenarioFile != "" && e.File != e.ScenarioFile
	switch {
	case e.Scenario != "" && other:
		fmt.Fprintf(&b, "scenario %q (%s): ", e.Scenario, e.ScenarioFile)
	case e.Scenario != "":
		fmt.Fprintf(&b, "scenario %q: ", e.Scenario)
	case other:
		fmt.Fprintf(&b, "scenario %s: ", e.ScenarioFile)
	}
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Object != "" {
		b.WriteString(e.Object)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadFile reads, strictly decodes and validates one scenario file and the policy
// files it names, and applies the defaults. Every error names the file, the line and
// the field.
func LoadFile(path string) (*Loaded, error) { return LoadFileWith(path, LoadOptions{}) }

// LoadOptions change what a scenario is loaded with; the zero value loads it as
// written. For callers that load scenarios from Go (policytest).
type LoadOptions struct {
	// CanaryFile, when set, is a YAML file holding the Canary to test instead of the
	// one the scenario's policy gives (the file a team keeps beside its Deployment):
	// the policy's Canary documents are left out, every document of this file is
	// added. Relative paths are relative to the working directory; problems in it
	// name this file and its lines.
	CanaryFile string
	// Canary, when set, selects the Canary to load ("name" or "namespace/name") when
	// the policy's documents hold several: the other Canary documents are left out.
	// For `aviary lint`, which loads every Canary of a set of files in turn.
	Canary string
	// OtherKinds skips the documents of kinds a policy cannot hold (a Kustomization, a
	// VirtualService, ...) instead of refusing them: for `aviary lint`, which reads a
	// repository's manifests as they are.
	OtherKinds bool
}

// Load strictly decodes and validates a scenario held in data, as LoadFile does a
// file's: file names it in every error and is what relative spec.policy.files are
// relative to (a name in the directory they are relative to, e.g. "scenarios/x.yaml").
func Load(file string, data []byte, opts LoadOptions) (*Loaded, error) {
	l := &loader{file: file, nodes: map[string]*yaml.Node{}, opts: opts}
	return l.load(data)
}

// LoadFileWith is LoadFile with options.
func LoadFileWith(path string, opts LoadOptions) (*Loaded, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, &LoadError{ScenarioFile: path, File: path, Msg: withoutPath(err)}
	}
	return Load(path, data, opts)
}

// LoadPaths loads every scenario named by paths. A file is loaded as a scenario; a
// directory is searched recursively for *.yaml and *.yml files whose first document
// is of kind Scenario (policy files living alongside are skipped), in lexical order.
// Two scenarios with the same metadata.name are an error naming both files. On error
// the slice holds the scenarios that did load and the error joins every problem.
func LoadPaths(paths []string) ([]*Loaded, error) { return LoadPathsWith(paths, LoadOptions{}) }

// LoadPathsWith is LoadPaths with options, which every scenario is loaded with (e.g.
// `aviary test --canary`: a team's own Canary in every scenario of a suite).
func LoadPathsWith(paths []string, opts LoadOptions) ([]*Loaded, error) {
	var files []string
	var errs []error
	seen := map[string]bool{}
	add := func(f string) {
		if c := filepath.Clean(f); !seen[c] {
			seen[c] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: withoutPath(err)})
			continue
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		before := len(errs)
		found, walkErrs := yamlFilesUnder(p)
		errs = append(errs, walkErrs...)
		isScenario := make([]bool, len(found))
		sideBySide(len(found), func(i int) { isScenario[i] = isScenarioFile(found[i]) })
		scenarios := found[:0]
		for i, f := range found {
			if isScenario[i] {
				scenarios = append(scenarios, f)
			}
		}
		found = scenarios
		if len(found) == 0 && len(errs) == before {
			errs = append(errs, &LoadError{File: p, Msg: "no scenarios in this directory (a scenario is a YAML file with kind: Scenario)"})
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	loaded, loadErrs := make([]*Loaded, len(files)), make([]error, len(files))
	sideBySide(len(files), func(i int) { loaded[i], loadErrs[i] = LoadFileWith(files[i], opts) })
	var out []*Loaded
	byName := map[string]*Loaded{}
	for i, f := range files {
		ld, err := loaded[i], loadErrs[i]
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := ld.Scenario.Metadata.Name
		if first, dup := byName[name]; dup {
			errs = append(errs, &LoadError{
				Scenario: name, ScenarioFile: f, File: f, Line: ld.Scenario.Metadata.nameLine, Path: "metadata.name",
				Msg: fmt.Sprintf("duplicate scenario name: %s and %s both define %q (names must be unique within a suite)",
					first.Scenario.File, f, name),
			})
			continue
		}
		byName[name] = ld
		out = append(out, ld)
	}
	return out, errors.Join(errs...)
}

// YAMLFiles lists the files paths name: a file as given, and for a directory its
// *.yaml and *.yml files, recursively, in lexical order (links followed; a pipe, a
// socket or a device is an error, as reading it could block). Each file is listed
// once. For callers that read every manifest of a tree (`aviary lint`).
func YAMLFiles(paths []string) ([]string, error) {
	var files []string
	var errs []error
	seen := map[string]bool{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: withoutPath(err)})
			continue
		}
		found := []string{p}
		if info.IsDir() {
			var walkErrs []error
			found, walkErrs = yamlFilesUnder(p)
			errs = append(errs, walkErrs...)
		}
		for _, f := range found {
			if c := filepath.Clean(f); !seen[c] {
				seen[c] = true
				files = append(files, f)
			}
		}
	}
	return files, errors.Join(errs...)
}

// yamlFilesUnder is the *.yaml and *.yml files under dir, recursively, in lexical
// order, and the problems met walking it.
func yamlFilesUnder(dir string) (found []string, errs []error) {
	err := filepath.WalkDir(dir, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
			return nil
		}
		if !d.Type().IsRegular() {
			// A link is followed; a pipe, a socket or a device is not read (it
			// could block), and is no YAML file the user can have meant to skip.
			info, err := os.Stat(f)
			if err == nil {
				err = regular(f, info)
			}
			if err != nil {
				errs = append(errs, &LoadError{File: f, Msg: withoutPath(err)})
				return nil
			}
		}
		found = append(found, f)
		return nil
	})
	if err != nil {
		errs = append(errs, &LoadError{File: dir, Msg: err.Error()})
	}
	return found, errs
}

// sideBySide calls do(i) for every i in [0, n), one goroutine per CPU: reading and
// loading the files of a suite of thousands of scenarios, as a sweep makes, would
// otherwise take seconds on one core before its runs start. do must only write
// what belongs to i.
func sideBySide(n int, do func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

var kindScenarioLine = regexp.MustCompile(`(?m)^kind:\s*["']?Scenario["']?\s*(#.*)?$`)

// isScenarioFile reports whether the first YAML document of f is of kind Scenario. A
// file that is not valid YAML counts as a scenario when it has a top-level
// "kind: Scenario" line, so that its errors are reported rather than skipped.
func isScenarioFile(f string) bool {
	data, err := ReadFile(f)
	if err != nil {
		return false
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return err != io.EOF && kindScenarioLine.Match(data)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	k := mappingValue(doc.Content[0], "kind")
	return k != nil && k.Kind == yaml.ScalarNode && k.Value == ScenarioKind
}

// loader loads one scenario file.
type loader struct {
	file  string
	opts  LoadOptions
	name  string
	errs  []*LoadError
	nodes map[string]*yaml.Node // scenario field path -> node
	// keyLines is the line of each scenario field's key.
	keyLines map[string]int

	canaryDoc    *policyDoc
	targetDoc    *policyDoc   // nil without a target Deployment among the objects
	templateDocs []*policyDoc // parallel to Loaded.Templates
	alertDocs    []*policyDoc // parallel to Loaded.AlertProviders
	// warnings are the policy's load-time warnings found while decoding (conversions,
	// fields Flagger ignores), before the query and expectation warnings.
	warnings []Warning
}

func (l *loader) addErr(e *LoadError) {
	e.Scenario, e.ScenarioFile = l.name, l.file
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, e)
	}
}

// errAt records a problem in the scenario file at the node of path (or its nearest
// recorded ancestor).
func (l *loader) errAt(path, format string, args ...any) {
	l.addErr(&LoadError{File: l.file, Line: l.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) lineOf(path string) int {
	for p := path; ; {
		if line, ok := l.keyLines[p]; ok {
			return line
		}
		if n, ok := l.nodes[p]; ok {
			return n.Line
		}
		if p == "" {
			return 0
		}
		p = parentPath(p)
	}
}

func (l *loader) present(path string) bool {
	n, ok := l.nodes[path]
	return ok && !isNull(n)
}

func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (l *loader) load(data []byte) (*Loaded, error) {
	docs, err := parseDocuments(data)
	if err != nil {
		line, msg := yamlErrorLine(err)
		l.addErr(&LoadError{File: l.file, Line: line, Msg: "invalid YAML: " + msg})
		return nil, l.err()
	}
	if len(docs) == 0 {
		l.addErr(&LoadError{File: l.file, Msg: "empty file: want a Scenario document (apiVersion: " + ScenarioAPIVersion + ", kind: Scenario)"})
		return nil, l.err()
	}
	root := docs[0]
	nameLine := 0
	if n := mappingValue(root, "metadata"); n != nil {
		if nm := mappingValue(n, "name"); nm != nil && nm.Kind == yaml.ScalarNode && nm.ShortTag() == "!!str" {
			l.name, nameLine = nm.Value, nm.Line
		}
	}
	if len(docs) > 1 {
		l.addErr(&LoadError{File: l.file, Line: docs[1].Line,
			Msg: "a scenario file holds one document; put policy objects in their own file (spec.policy.files) or in spec.policy.objects"})
	}
	if root.Kind != yaml.MappingNode {
		l.addErr(&LoadError{File: l.file, Line: root.Line, Msg: "want a Scenario (a mapping with apiVersion, kind, metadata and spec), got " + describe(root)})
		return nil, l.err()
	}
	l.checkHeader(root)
	sc := newShapeChecker(false, l.nodes, func(n *yaml.Node, path, msg string) {
		l.addErr(&LoadError{File: l.file, Line: n.Line, Path: path, Msg: msg})
	})
	sc.check(root, reflect.TypeOf(Scenario{}), "")
	l.keyLines = sc.keyLines
	if len(l.errs) > 0 {
		return nil, l.err()
	}
	l.checkLengths()
	if len(l.errs) > 0 {
		return nil, l.err()
	}

	s := &Scenario{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil {
		l.yamlDecodeError(err)
		return nil, l.err()
	}
	s.File = l.file
	s.Metadata.nameLine = nameLine
	l.validate(s)
	if len(l.errs) > 0 {
		return nil, l.err()
	}
	ld := &Loaded{Scenario: s, lineOf: l.lineOf, docs: map[client.Object]*policyDoc{}}
	l.loadPolicy(s, ld)
	if len(l.errs) > 0 {
		return nil, l.err()
	}
	l.checkAgainstPolicy(s, ld)
	l.checkWork(s, ld)
	if len(l.errs) > 0 {
		return nil, l.err()
	}
	ld.ReadinessFromProbes = !l.present("spec.target.startupDelay")
	applyDefaults(s, l.present)
	l.fallbackWarnings(s, ld)
	ld.PolicyWarnings = append(append(l.warnings, l.queryWarnings(ld)...), l.alertWarnings(ld)...)
	ld.Warnings = append(warningTexts(ld.PolicyWarnings), l.expectWarnings(s)...)
	return ld, nil
}

// parseDocuments parses every YAML document of data, dropping empty ones; it returns
// each document's root node (not the DocumentNode).
func parseDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		docs = append(docs, doc.Content[0])
	}
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlErrorLine splits a yaml.v3 error into its line and message. yaml.v3 reports
// the line of a parser error ("did not find expected ...") 0-based; it is corrected.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			line++
		}
		return line, m[2]
	}
	return 0, msg
}

var (
	fieldNotFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	cannotDecodeRE  = regexp.MustCompile("^cannot unmarshal (\\S+) `(.*)` into (\\S+)$")
)

// yamlDecodeError rewrites yaml.v3's decoding errors ("line 7: field wrld not found in
// type sim.ScenarioSpec") to file:line: path: message. The shape check catches these
// first; this is the safety net.
func (l *loader) yamlDecodeError(err error) {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for _, m := range msgs {
		line, msg := yamlErrorLine(errors.New(m))
		path := l.pathAtLine(line)
		if sm := fieldNotFoundRE.FindStringSubmatch(msg); sm != nil {
			path, msg = world.JoinKey(path, sm[1]), "unknown field"
		} else if sm := cannotDecodeRE.FindStringSubmatch(msg); sm != nil {
			msg = fmt.Sprintf("want %s, got %q", sm[3], sm[2])
		}
		l.addErr(&LoadError{File: l.file, Line: line, Path: path, Msg: msg})
	}
}

// pathAtLine is the deepest recorded field path whose node starts on line.
func (l *loader) pathAtLine(line int) string {
	best := ""
	for p, n := range l.nodes {
		if n.Line == line && (len(p) > len(best) || (len(p) == len(best) && p < best)) {
			best = p
		}
	}
	return best
}

// checkHeader checks apiVersion, kind and metadata.name of the scenario.
func (l *loader) checkHeader(root *yaml.Node) {
	report := func(n *yaml.Node, path, format string, args ...any) {
		l.addErr(&LoadError{File: l.file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if v := mappingValue(root, "apiVersion"); v == nil || isNull(v) {
		report(root, "apiVersion", "required (want %s)", ScenarioAPIVersion)
	} else if v.Kind == yaml.ScalarNode && v.Value != ScenarioAPIVersion {
		report(v, "apiVersion", "want %s, got %q", ScenarioAPIVersion, v.Value)
	}
	if v := mappingValue(root, "kind"); v == nil || isNull(v) {
		report(root, "kind", "required (want %s)", ScenarioKind)
	} else if v.Kind == yaml.ScalarNode && v.Value != ScenarioKind {
		report(v, "kind", "want %s, got %q", ScenarioKind, v.Value)
	}
	md := mappingValue(root, "metadata")
	if md == nil || isNull(md) {
		report(root, "metadata.name", "required: every scenario needs a name, unique within its suite")
	} else if md.Kind == yaml.MappingNode {
		if v := mappingValue(md, "name"); v == nil || isNull(v) || (v.Kind == yaml.ScalarNode && v.Value == "") {
			report(md, "metadata.name", "required: every scenario needs a name, unique within its suite")
		}
	}
}

// validate checks the values of a decoded scenario.
func (l *loader) validate(s *Scenario) {
	sp := &s.Spec
	until := DefaultUntil
	if l.present("spec.until") {
		until = sp.Until.Duration
		if until <= 0 {
			l.errAt("spec.until", "must be positive (the virtual end of the run, default %s)", DefaultUntil)
		}
	}
	if len(sp.Policy.Files) == 0 && len(sp.Policy.Objects) == 0 {
		l.errAt("spec.policy", "no policy: give spec.policy.files or spec.policy.objects with one Canary")
	}
	for i, f := range sp.Policy.Files {
		if f == "" {
			l.errAt(fmt.Sprintf("spec.policy.files[%d]", i), "empty path")
		}
	}

	if r := sp.Target.Replicas; r != nil {
		checkReplicas(*r, func(format string, args ...any) { l.errAt("spec.target.replicas", format, args...) })
	}
	if l.present("spec.target.image") && sp.Target.Image == "" {
		l.errAt("spec.target.image", "empty image (leave it out for the default %s)", DefaultImage)
	}
	checkImage(sp.Target.Image, func(msg string) { l.errAt("spec.target.image", "%s", msg) })

	l.validateWorld(&sp.World)

	l.validateHooks(sp.Hooks)

	for i, a := range sp.Timeline {
		p := fmt.Sprintf("spec.timeline[%d]", i)
		var given []string
		for _, k := range []struct {
			key string
			set bool
		}{{"image", a.Image != ""}, {"patch", a.Patch != nil}, {"configMap", a.ConfigMap != nil}, {"secret", a.Secret != nil}} {
			if k.set {
				given = append(given, k.key)
			}
		}
		switch {
		case len(given) > 1:
			l.errAt(p, "give one of image, patch, configMap and secret, not %s (use several entries at the same time)", strings.Join(given, " and "))
		case len(given) == 0:
			l.errAt(p, "give image (a new revision of the target), patch (a merge patch of the Canary), configMap or secret (a new version of one of the policy's)")
		}
		checkImage(a.Image, func(msg string) { l.errAt(p+".image", "%s", msg) })
		if a.Patch != nil {
			l.checkPatch(p + ".patch")
		}
		if a.ConfigMap != nil {
			l.checkConfigChange(p+".configMap", a.ConfigMap, false)
		}
		if a.Secret != nil {
			l.checkConfigChange(p+".secret", a.Secret, true)
		}
		if a.At.Duration > until {
			l.errAt(p+".at", "%s is after spec.until %s", a.At.Duration, until)
		}
		if i > 0 && a.At.Duration < sp.Timeline[i-1].At.Duration {
			l.errAt(p+".at", "%s is before timeline[%d].at %s (list the timeline in order)", a.At.Duration, i-1, sp.Timeline[i-1].At.Duration)
		}
	}

	if e := sp.Expect; e != nil {
		l.validateExpect(e)
	}
}

// checkImage reports an image the API server refuses in a container: one with
// leading or trailing whitespace.
func checkImage(image string, report func(string)) {
	if strings.TrimSpace(image) != image {
		report(fmt.Sprintf("%q has leading or trailing whitespace (the API server refuses such an image)", image))
	}
}

// validateWorld reports the world's problems (world.Spec.Validate, the rules the
// world itself applies) at their lines, and zero durations written out where zero
// only means "the default".
func (l *loader) validateWorld(w *world.Spec) {
	for _, e := range w.Validate() {
		l.errAt("spec.world."+e.Path, "%s", e.Msg)
	}
	if l.present("spec.world.scrapeInterval") && w.ScrapeInterval.Duration <= 0 {
		l.errAt("spec.world.scrapeInterval", "must be positive (default %s)", world.DefaultScrapeInterval)
	}
	for _, img := range sortedMapKeys(w.Versions) {
		l.checkWrittenLatency(world.JoinKey("spec.world.versions", img)+".latency", w.Versions[img].Latency)
	}
	for i, f := range w.Faults {
		l.checkWrittenLatency(fmt.Sprintf("spec.world.faults[%d].latency", i), f.Latency)
	}
}

// checkWrittenLatency reports a quantile written as 0: it would mean "not given".
func (l *loader) checkWrittenLatency(path string, lat *world.Latency) {
	if lat == nil {
		return
	}
	for _, q := range []struct {
		key string
		d   time.Duration
	}{{"p50", lat.P50.Duration}, {"p99", lat.P99.Duration}} {
		if l.present(path+"."+q.key) && q.d <= 0 {
			l.errAt(path+"."+q.key, "must be positive")
		}
	}
}

func (l *loader) validateExpect(e *Expectations) {
	if e.Phase != "" && !isFlaggerPhase(e.Phase) {
		hint := ""
		for _, ph := range v1beta1.CanaryPhases {
			if strings.EqualFold(string(ph), e.Phase) {
				hint = fmt.Sprintf(" (did you mean %s?)", ph)
			}
		}
		l.errAt("spec.expect.phase", "%q is not a Flagger phase%s; want one of %s", e.Phase, hint, joinPhases())
	}
	for i, w := range e.Routes {
		if w < 0 || w > 100 {
			l.errAt(fmt.Sprintf("spec.expect.routes[%d]", i), "want a canary weight between 0 and 100, got %d", w)
		}
	}
	if m := e.MaxCanaryWeight; m != nil && (*m < 0 || *m > 100) {
		l.errAt("spec.expect.maxCanaryWeight", "want a canary weight between 0 and 100, got %d", *m)
	}
	l.checkPatterns("spec.expect.events", e.Events, "event")
	l.checkPatterns("spec.expect.absentEvents", e.AbsentEvents, "event")
	for _, k := range sortedMapKeys(e.HookCalls) {
		p := world.JoinKey("spec.expect.hookCalls", k)
		if !isHookType(k) {
			l.errAt(p, "%q is not a Flagger webhook type; want one of %s", k, joinHookTypes())
		}
		l.checkCount(p, e.HookCalls[k])
	}
	l.validateAlertExpectations(e.Alerts)
	if e.FailedRequests != nil {
		l.checkCount("spec.expect.failedRequests", *e.FailedRequests)
	}
	if e.Control != nil {
		l.validateControl(e.Control)
	}
}

// validateControl checks spec.expect.control: exactly one of scenario and none, neither
// empty, and no scenario that is its own control.
func (l *loader) validateControl(c *Control) {
	const p = "spec.expect.control"
	hasScenario, hasNone := l.present(p+".scenario"), l.present(p+".none")
	switch {
	case hasScenario && hasNone:
		l.errAt(p, "give either scenario (a scenario whose run must fail these expectations) or none (why no negative control applies), not both")
	case !hasScenario && !hasNone:
		l.errAt(p, "give scenario (the name of a scenario whose run must fail these expectations) or none (why no negative control applies); leave control out for the derived one")
	case hasNone && strings.TrimSpace(c.None) == "":
		l.errAt(p+".none", "empty reason: say why no negative control applies to these expectations")
	case hasScenario && strings.TrimSpace(c.Scenario) == "":
		l.errAt(p+".scenario", "empty scenario name")
	case hasScenario && c.Scenario == l.name:
		l.errAt(p+".scenario", "names this scenario itself: the control is another scenario, on whose run these expectations must fail")
	}
}

// checkPatch checks a timeline merge patch against the Canary's schema: a merge
// patch has the shape of the object it patches (null deletes a field).
func (l *loader) checkPatch(path string) {
	n, ok := l.nodes[path]
	if !ok {
		return
	}
	nodes := map[string]*yaml.Node{}
	sc := newShapeChecker(true, nodes, func(n *yaml.Node, sub, msg string) {
		full := path
		if sub != "" {
			full = path + "." + sub
		}
		l.addErr(&LoadError{File: l.file, Line: n.Line, Path: full, Msg: msg + " (the patch is a JSON merge patch of the Canary)"})
	})
	sc.check(n, reflect.TypeOf(v1beta1.Canary{}), "")
}

func (l *loader) checkCount(path string, c Count) {
	for _, v := range []*int64{c.Exact, c.Min, c.Max} {
		if v != nil && *v < 0 {
			l.errAt(path, "counts must not be negative, got %d", *v)
			return
		}
	}
	if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
		l.errAt(path, "min %d is greater than max %d", *c.Min, *c.Max)
	}
}

func isFlaggerPhase(p string) bool {
	for _, ph := range v1beta1.CanaryPhases {
		if string(ph) == p {
			return true
		}
	}
	return false
}

func joinPhases() string {
	s := make([]string, len(v1beta1.CanaryPhases))
	for i, p := range v1beta1.CanaryPhases {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func isHookType(t string) bool {
	for _, h := range v1beta1.HookTypes {
		if string(h) == t {
			return true
		}
	}
	return false
}

func joinHookTypes() string {
	s := make([]string, len(v1beta1.HookTypes))
	for i, h := range v1beta1.HookTypes {
		s[i] = string(h)
	}
	return strings.Join(s, ", ")
}

// applyDefaults fills what the scenario leaves out. present reports whether a field
// path was written (so that an explicit 0s startupDelay stays 0).
func applyDefaults(s *Scenario, present func(string) bool) {
	sp := &s.Spec
	if sp.Target.Replicas == nil {
		r := DefaultReplicas
		sp.Target.Replicas = &r
	}
	if sp.Target.Image == "" {
		sp.Target.Image = DefaultImage
	}
	if !present("spec.target.startupDelay") {
		sp.Target.StartupDelay.Duration = DefaultStartupDelay
	}
	w := &sp.World
	if !present("spec.world.scrapeInterval") {
		w.ScrapeInterval.Duration = world.DefaultScrapeInterval
	}
	if w.RPS == nil {
		r := world.DefaultRPS
		w.RPS = &r
	}
	if !present("spec.until") {
		sp.Until.Duration = DefaultUntil
	}
	w.Versions = world.ResolveVersions(w.Versions)
}
