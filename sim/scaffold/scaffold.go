package scaffold

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"aviary.dev/aviary/sim/scenario"
)

// Options say which policy files to start from and where the scenarios go.
type Options struct {
	// Files are the policy files as the user keeps them (the Canary, and the files
	// its MetricTemplates, AlertProviders, Deployment, ConfigMaps... live in),
	// relative to the working directory or absolute.
	Files []string
	// Dir is the directory the scenarios will be written to; the scenarios refer
	// to Files by paths relative to it.
	Dir string
}

// File is one generated scenario.
type File struct {
	// Path is where it goes: Dir/<name>.yaml.
	Path string
	// Name is its metadata.name.
	Name string
	// Data is the file's content.
	Data []byte
	// Summary is its expectation and why, in one line.
	Summary string
	// Findings are what the scenario shows about the policy that its author may not
	// want (a fault no check sees).
	Findings []string
	// Problems are expectations that do not hold when the scenario is run as
	// written (the world lacks a series only the user can give, ...): empty for a
	// set that passes.
	Problems []string
}

// Set is the scenarios generated for one Canary.
type Set struct {
	// Canary is the Canary's name.namespace.
	Canary string
	// Files are the scenarios, in a fixed order.
	Files []File
	// Notes are what the user must add or know for the whole set (series of the
	// application's aviary cannot derive, the counters' values it chose).
	Notes []string
	// Warnings are the loader's warnings about the policy (what Flagger would read
	// otherwise than written), file:line first.
	Warnings []string
}

// Problems is every problem of the set's files, each naming its scenario.
func (s *Set) Problems() []string {
	var out []string
	for _, f := range s.Files {
		for _, p := range f.Problems {
			out = append(out, f.Name+": "+p)
		}
	}
	return out
}

// Generate loads the policy in opts.Files with the scenario loader and returns the
// scenarios for its Canary, each loaded and run (fast mode) once to confirm its
// expectations (File.Problems). A policy the loader refuses is an error naming the
// file, the line and the field.
func Generate(ctx context.Context, opts Options) (*Set, error) {
	if len(opts.Files) == 0 {
		return nil, errors.New("no policy files given (give the file that holds your Canary, and those of its templates and providers)")
	}
	rel, err := relativeTo(opts.Dir, opts.Files)
	if err != nil {
		return nil, err
	}
	ld, warnings, err := loadPolicy(opts, rel)
	if err != nil {
		return nil, err
	}
	p := newPlan(ld, opts, rel)
	if err := p.calibrate(ctx); err != nil {
		return nil, err
	}
	if err := p.judge(ctx); err != nil {
		return nil, err
	}
	set := &Set{Canary: ld.Canary.Name + "." + ld.Canary.Namespace, Notes: p.notes, Warnings: warnings}
	for _, d := range p.drafts() {
		f, err := p.finish(ctx, d)
		if err != nil {
			return nil, err
		}
		set.Files = append(set.Files, f)
	}
	return set, nil
}

// relativeTo is each file's path relative to dir, as a scenario in dir names it.
func relativeTo(dir string, files []string) ([]string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	out := make([]string, len(files))
	for i, f := range files {
		info, err := os.Stat(f)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", f, unwrapPath(err))
		case info.IsDir():
			return nil, fmt.Errorf("%s: a directory; give the policy files themselves", f)
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r, err := filepath.Rel(absDir, abs)
		if err != nil {
			r = abs
		}
		out[i] = filepath.ToSlash(r)
	}
	return out, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// probeName is the name of the scenario the policy is loaded in; it names nothing the
// user sees.
const probeName = "aviary-init"

// loadPolicy decodes the policy files with the scenario loader, in a scenario of
// Dir that names them as the generated ones will, and words its errors and warnings
// as about the policy files as given.
func loadPolicy(opts Options, rel []string) (*scenario.Loaded, []string, error) {
	doc := mapping(
		field{key: "apiVersion", value: str(scenario.ScenarioAPIVersion)},
		field{key: "kind", value: str(scenario.ScenarioKind)},
		field{key: "metadata", value: mapping(field{key: "name", value: str(probeName)})},
		field{key: "spec", value: mapping(field{key: "policy", value: mapping(field{key: "files", value: strs(rel)})})},
	)
	data, err := render(nil, doc)
	if err != nil {
		return nil, nil, err
	}
	file := filepath.Join(opts.Dir, probeName+".yaml")
	// the loader names a policy file as the scenario reaches it; the user gave it so
	given := map[string]string{}
	for i, r := range rel {
		given[filepath.Join(filepath.Dir(file), r)] = opts.Files[i]
	}
	ld, err := scenario.Load(file, data, scenario.LoadOptions{})
	if err != nil {
		return nil, nil, policyError(err, file, opts.Files, given)
	}
	warnings := slices.Clone(ld.Warnings)
	for i, w := range warnings {
		for reached, g := range given {
			if rest, ok := strings.CutPrefix(w, reached+":"); ok {
				warnings[i] = g + ":" + rest
			}
		}
	}
	return ld, warnings, nil
}

// policyError rewords the loader's errors: those in the policy files as they are,
// without the probe scenario's name; those about the probe scenario as about the
// files given.
func policyError(err error, probe string, files []string, given map[string]string) error {
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	var out []string
	for _, e := range errs {
		var le *scenario.LoadError
		if !errors.As(e, &le) {
			out = append(out, e.Error())
			continue
		}
		c := *le
		c.Scenario, c.ScenarioFile = "", ""
		if g, ok := given[c.File]; ok {
			c.File = g
		}
		if c.File == probe {
			msg := c.Msg
			if strings.Contains(msg, "no Canary found") {
				msg = "no Canary found (give the file that holds your Canary, kind: Canary)"
			}
			out = append(out, strings.Join(files, ", ")+": "+msg)
			continue
		}
		out = append(out, c.Error())
	}
	return errors.New(strings.Join(out, "\n"))
}
