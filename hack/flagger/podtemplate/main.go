// Command podtemplate generates aviary's mirror of the Kubernetes API types a pod
// template is made of, as Flagger v1.44.0 was built with them, and a sample template
// with Flagger's own hash of it.
//
// Flagger's status.lastAppliedSpec is canary.ComputeHash(deployment.Spec.Template):
// FNV-32a over a go-spew dump that names every type and prints every field, nil or
// not. The dump (so the hash) depends on the k8s.io/api release the binary was built
// with: a release that adds a field to any struct a template reaches changes every
// hash. aviary is built with a newer release; to compute Flagger's hash it hashes a
// copy of the template in these mirror types instead, filled by a JSON round trip
// (which drops the fields the older release lacks, as Flagger's decoder does).
//
// It lives in this module because this module is Flagger's build: k8s.io/api and
// k8s.io/apimachinery resolve here at the versions the Flagger binary of the e2e
// test is built with, and the sample's hash is Flagger's own canary.ComputeHash.
//
// A named type of k8s.io/api or k8s.io/apimachinery is mirrored (same package name
// and type name, so that spew prints the same type names; exported fields with their
// json tags) unless it encodes itself in JSON (resource.Quantity, intstr.IntOrString,
// metav1.Time, metav1.FieldsV1: "leaf" types): those are referenced from aviary's own
// k8s.io modules, and the sample, which reaches every type, shows when their layout
// changed (aviary's test of the sample then fails).
//
// Usage, from this directory (aviary's engine/workload test runs it and compares):
//
//	go run ./podtemplate -out ../../engine/workload/internal/flaggerk8s
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/fluxcd/flagger/pkg/canary"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsjson "sigs.k8s.io/json"
)

// mirrorImport is the import path of the mirror packages' root in aviary.
const mirrorImport = "aviary.dev/aviary/engine/workload/internal/flaggerk8s"

// SampleFile is the sample's file name under -out.
const sampleFile = "testdata/sample.json"

// k8sPrefixes are the module prefixes whose types are mirrored, and what is cut off
// their package paths to place the mirror under -out.
var k8sPrefixes = []string{"k8s.io/api/", "k8s.io/apimachinery/pkg/"}

func main() {
	out := flag.String("out", "", "directory of the mirror packages (aviary's engine/workload/internal/flaggerk8s)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "podtemplate: -out is required")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "podtemplate:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	g := &generator{pkgs: map[string]*mirrorPkg{}, seen: map[reflect.Type]bool{}}
	if err := g.walk(reflect.TypeOf(corev1.PodTemplateSpec{})); err != nil {
		return err
	}
	header, err := header()
	if err != nil {
		return err
	}
	for _, p := range g.pkgs {
		src, err := g.source(p, header)
		if err != nil {
			return fmt.Errorf("%s: %w", p.path, err)
		}
		dir := filepath.Join(out, filepath.FromSlash(p.rel))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "zz_generated.types.go"), src, 0o644); err != nil {
			return err
		}
	}
	sample, err := sample(header)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, filepath.Dir(sampleFile)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, filepath.FromSlash(sampleFile)), sample, 0o644)
}

// header names the build the types come from.
func header() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("no build information (run it with go run)")
	}
	versions := map[string]string{}
	for _, m := range info.Deps {
		versions[m.Path] = m.Version
	}
	var parts []string
	for _, m := range []string{"github.com/fluxcd/flagger", "k8s.io/api", "k8s.io/apimachinery"} {
		if versions[m] == "" {
			return "", fmt.Errorf("%s is not in the build", m)
		}
		parts = append(parts, m+" "+versions[m])
	}
	return strings.Join(parts, ", "), nil
}

// mirrorPkg is one mirrored package.
type mirrorPkg struct {
	path, name, rel string
	types           map[string]reflect.Type
}

type generator struct {
	pkgs map[string]*mirrorPkg
	seen map[reflect.Type]bool
}

var (
	jsonMarshaler   = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

// leaf reports a type that encodes itself in JSON: referenced, not mirrored.
func leaf(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler)
}

// mirrored reports a named k8s type that is copied into a mirror package.
func mirrored(t reflect.Type) bool {
	if t.Name() == "" || leaf(t) {
		return false
	}
	for _, p := range k8sPrefixes {
		if strings.HasPrefix(t.PkgPath(), p) {
			return true
		}
	}
	return false
}

// walk records every mirrored type t reaches.
func (g *generator) walk(t reflect.Type) error {
	if g.seen[t] {
		return nil
	}
	g.seen[t] = true
	if t.Name() != "" && !mirrored(t) {
		return nil // builtin, leaf or outside Kubernetes: referenced as it is
	}
	if t.Name() != "" {
		p := g.pkgs[t.PkgPath()]
		if p == nil {
			name, _, _ := strings.Cut(t.String(), ".")
			rel := t.PkgPath()
			for _, pre := range k8sPrefixes {
				rel = strings.TrimPrefix(rel, pre)
			}
			p = &mirrorPkg{path: t.PkgPath(), name: name, rel: rel, types: map[string]reflect.Type{}}
			g.pkgs[t.PkgPath()] = p
		}
		p.types[t.Name()] = t
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return g.walk(t.Elem())
	case reflect.Map:
		if err := g.walk(t.Key()); err != nil {
			return err
		}
		return g.walk(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				return fmt.Errorf("%s.%s is unexported: a JSON round trip cannot fill it", t, f.Name)
			}
			if err := g.walk(f.Type); err != nil {
				return err
			}
		}
	case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return fmt.Errorf("%s: a %s cannot be mirrored", t, t.Kind())
	}
	return nil
}

// alias is a package's import name in the generated files: mirror packages by their
// last path elements (metav1, corev1, types), aviary's own k8s packages prefixed k8s.
func alias(pkgPath string, mirror bool) string {
	elems := strings.Split(pkgPath, "/")
	name := elems[len(elems)-1]
	if len(name) > 1 && name[0] == 'v' && name[1] >= '0' && name[1] <= '9' && len(elems) > 1 {
		name = elems[len(elems)-2] + name
	}
	if !mirror && strings.HasPrefix(pkgPath, "k8s.io/") {
		name = "k8s" + name
	}
	return name
}

// expr writes t as a type expression in package from, adding what it imports.
func (g *generator) expr(t reflect.Type, from *mirrorPkg, imports map[string]string) (string, error) {
	if t.Name() != "" {
		switch {
		case t.PkgPath() == "":
			return t.Name(), nil
		case mirrored(t):
			if t.PkgPath() == from.path {
				return t.Name(), nil
			}
			p := g.pkgs[t.PkgPath()]
			a := alias(p.path, true)
			imports[mirrorImport+"/"+p.rel] = a
			return a + "." + t.Name(), nil
		default:
			a := alias(t.PkgPath(), false)
			imports[t.PkgPath()] = a
			return a + "." + t.Name(), nil
		}
	}
	return g.underlying(t, from, imports)
}

// underlying writes t's structure (not its name).
func (g *generator) underlying(t reflect.Type, from *mirrorPkg, imports map[string]string) (string, error) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		elem, err := g.expr(t.Elem(), from, imports)
		if err != nil {
			return "", err
		}
		switch t.Kind() {
		case reflect.Pointer:
			return "*" + elem, nil
		case reflect.Slice:
			return "[]" + elem, nil
		}
		return fmt.Sprintf("[%d]%s", t.Len(), elem), nil
	case reflect.Map:
		k, err := g.expr(t.Key(), from, imports)
		if err != nil {
			return "", err
		}
		v, err := g.expr(t.Elem(), from, imports)
		if err != nil {
			return "", err
		}
		return "map[" + k + "]" + v, nil
	case reflect.Struct:
		var b strings.Builder
		b.WriteString("struct {\n")
		for i := range t.NumField() {
			f := t.Field(i)
			ft, err := g.expr(f.Type, from, imports)
			if err != nil {
				return "", err
			}
			tag := ""
			if j, ok := f.Tag.Lookup("json"); ok {
				tag = fmt.Sprintf(" `json:%q`", j)
			}
			if f.Anonymous {
				fmt.Fprintf(&b, "\t%s%s\n", ft, tag)
			} else {
				fmt.Fprintf(&b, "\t%s %s%s\n", f.Name, ft, tag)
			}
		}
		b.WriteString("}")
		return b.String(), nil
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return t.Kind().String(), nil
	}
	return "", fmt.Errorf("%s: a %s cannot be mirrored", t, t.Kind())
}

// source is one mirror package's Go file.
func (g *generator) source(p *mirrorPkg, header string) ([]byte, error) {
	names := make([]string, 0, len(p.types))
	for n := range p.types {
		names = append(names, n)
	}
	sort.Strings(names)
	imports := map[string]string{}
	var decls bytes.Buffer
	for _, n := range names {
		body, err := g.underlying(p.types[n], p, imports)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&decls, "\n// %s is %s.%s.\ntype %s %s\n", n, p.path, n, n, body)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by hack/flagger/podtemplate from %s. DO NOT EDIT.\n\n", header)
	fmt.Fprintf(&b, "// Package %s mirrors the types of %s that a pod template reaches, as Flagger's\n", p.name, p.path)
	fmt.Fprintf(&b, "// build has them: the same names and fields, for Flagger's hash of the template.\n")
	fmt.Fprintf(&b, "package %s\n", p.name)
	if len(imports) > 0 {
		paths := make([]string, 0, len(imports))
		for ip := range imports {
			paths = append(paths, ip)
		}
		sort.Strings(paths)
		b.WriteString("\nimport (\n")
		for _, ip := range paths {
			fmt.Fprintf(&b, "\t%s %q\n", imports[ip], ip)
		}
		b.WriteString(")\n")
	}
	b.Write(decls.Bytes())
	return format.Source(b.Bytes())
}

// Sample is the sample file: a template in which every field a template can hold
// in Flagger's build is set, and Flagger's hash of it as Flagger reads it.
type Sample struct {
	Generated string          `json:"generated"`
	Template  json.RawMessage `json:"template"`
	Hash      string          `json:"hash"`
}

func sample(header string) ([]byte, error) {
	var tpl corev1.PodTemplateSpec
	fill(reflect.ValueOf(&tpl).Elem(), map[reflect.Type]bool{})
	raw, err := json.Marshal(tpl)
	if err != nil {
		return nil, err
	}
	// Hash what Flagger's decoder makes of the JSON, as it reads a Deployment.
	var read corev1.PodTemplateSpec
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &read); err != nil {
		return nil, err
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, raw, "  ", "  "); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(Sample{Generated: "hack/flagger/podtemplate from " + header,
		Template: indented.Bytes(), Hash: canary.ComputeHash(read)}, "", "  ")
	return append(out, '\n'), err
}

// fill sets every field v reaches to a value that is not its zero value: pointers
// allocated, one element per slice and map. A type already being filled further up
// (a recursive type) is left zero.
func fill(v reflect.Value, filling map[reflect.Type]bool) {
	t := v.Type()
	switch t {
	case reflect.TypeOf(resource.Quantity{}):
		v.Set(reflect.ValueOf(resource.MustParse("250m")))
		return
	case reflect.TypeOf(intstr.IntOrString{}):
		v.Set(reflect.ValueOf(intstr.FromString("http")))
		return
	case reflect.TypeOf(metav1.Time{}):
		return // written as null when zero; any other time is read in the local zone
	case reflect.TypeOf(metav1.FieldsV1{}):
		v.Set(reflect.ValueOf(metav1.FieldsV1{Raw: []byte(`{"f:metadata":{}}`)}))
		return
	}
	if filling[t] {
		return
	}
	filling[t] = true
	defer delete(filling, t)
	switch t.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		fill(v.Elem(), filling)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 1, 1))
		fill(v.Index(0), filling)
	case reflect.Map:
		m := reflect.MakeMap(t)
		k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		fill(k, filling)
		fill(e, filling)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				fill(v.Field(i), filling)
			}
		}
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.5)
	}
}
