package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
	k8sjson "sigs.k8s.io/json"

	"aviary.dev/aviary/api/v1beta1"
)

// ---------------------------------------------------------------------------------
// Policy objects

// policyDoc is one policy object as written.
type policyDoc struct {
	file   string
	node   *yaml.Node
	nodes  map[string]*yaml.Node // field path -> node
	object string                // "Canary podinfo"
	// keyLines is the line of each field's key.
	keyLines map[string]int
}

func (l *loader) policyErr(d *policyDoc, n *yaml.Node, path, format string, args ...any) {
	line := lineIn(d, path) // the field, or the nearest enclosing one that is written
	if n != nil {
		line = n.Line
	}
	l.addErr(&LoadError{File: d.file, Line: line, Object: d.object, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// loadPolicy reads spec.policy and decodes its objects into ld.
func (l *loader) loadPolicy(s *Scenario, ld *Loaded) {
	var docs []*policyDoc
	for i, f := range s.Spec.Policy.Files {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(l.file), f)
		}
		field := fmt.Sprintf("spec.policy.files[%d]", i)
		data, err := readRegular(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				l.errAt(field, "policy file %s not found (paths are relative to the scenario file)", p)
			} else {
				l.errAt(field, "policy file %s: %v", p, err)
			}
			continue
		}
		nodes, err := parseDocuments(data)
		if err != nil {
			line, msg := yamlErrorLine(err)
			l.addErr(&LoadError{File: p, Line: line, Msg: "invalid YAML: " + msg})
			continue
		}
		if len(nodes) == 0 {
			l.errAt(field, "policy file %s holds no objects", p)
		}
		for _, n := range nodes {
			docs = append(docs, &policyDoc{file: p, node: n})
		}
	}
	for i := range s.Spec.Policy.Objects {
		n := &s.Spec.Policy.Objects[i]
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		docs = append(docs, &policyDoc{file: l.file, node: n, object: fmt.Sprintf("spec.policy.objects[%d]", i)})
	}
	if len(l.errs) > 0 {
		return
	}

	canaryDocs := 0
	names := map[string]*policyDoc{}
	for _, d := range docs {
		obj, flagger := l.decodePolicyObject(d)
		switch o := obj.(type) {
		case *v1beta1.Canary:
			canaryDocs++
			if canaryDocs > 1 {
				l.policyErr(d, nil, "", "a scenario tests exactly one Canary (the first is %s)", ld.Canary.Name)
				continue
			}
			ld.Canary, ld.FlaggerExact = o, flagger
			l.canaryDoc = d
		case *v1beta1.MetricTemplate:
			if l.uniqueName(d, names, "MetricTemplate", o.Name) {
				ld.Templates = append(ld.Templates, o)
				l.templateDocs = append(l.templateDocs, d)
			}
		case *v1beta1.AlertProvider:
			if l.uniqueName(d, names, "AlertProvider", o.Name) {
				ld.AlertProviders = append(ld.AlertProviders, o)
				l.alertDocs = append(l.alertDocs, d)
			}
		}
	}
	if len(l.errs) > 0 {
		return
	}
	if ld.Canary == nil {
		l.errAt("spec.policy", "no Canary found (give one Canary, kind: Canary, in spec.policy.files or spec.policy.objects)")
		return
	}
	cd, d := ld.Canary, l.canaryDoc
	switch {
	case cd.Spec.TargetRef.Name == "":
		l.policyErr(d, nil, "spec.targetRef.name", "required: the name of the Deployment under test")
	case cd.Spec.TargetRef.Kind == "":
		l.policyErr(d, nil, "spec.targetRef.kind", "required (Deployment)")
	case cd.Spec.TargetRef.Kind != "Deployment":
		l.policyErr(d, nil, "spec.targetRef.kind", "%s targets are not supported yet (only Deployment)", cd.Spec.TargetRef.Kind)
	}
	ns := cd.Namespace
	check := func(d *policyDoc, kind, name, objNS string) {
		if objNS != ns {
			l.policyErr(d, nil, "metadata.namespace", "%s %s is in namespace %q but the Canary is in %q (a scenario's objects share one namespace)", kind, name, objNS, ns)
		}
	}
	for i, t := range ld.Templates {
		check(l.templateDocs[i], "MetricTemplate", t.Name, t.Namespace)
	}
	for i, a := range ld.AlertProviders {
		check(l.alertDocs[i], "AlertProvider", a.Name, a.Namespace)
	}
}

func (l *loader) uniqueName(d *policyDoc, names map[string]*policyDoc, kind, name string) bool {
	key := kind + "/" + name
	if first, dup := names[key]; dup {
		l.policyErr(d, nil, "metadata.name", "duplicate %s %q (first in %s:%d)", kind, name, first.file, first.node.Line)
		return false
	}
	names[key] = d
	return true
}

// decodePolicyObject checks and decodes one policy document. It returns nil after
// recording an error.
func (l *loader) decodePolicyObject(d *policyDoc) (obj any, flagger bool) {
	d.nodes = map[string]*yaml.Node{}
	n := d.node
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		l.policyErr(d, n, "", "want a Kubernetes object (a mapping with apiVersion, kind, metadata and spec), got %s", describe(n))
		return nil, false
	}
	kindNode, avNode := mappingValue(n, "kind"), mappingValue(n, "apiVersion")
	kind, av := scalarString(kindNode), scalarString(avNode)
	name := scalarString(mappingValue(mappingValue(n, "metadata"), "name"))
	label := kind
	if label == "" {
		label = "object"
	}
	if name != "" {
		label += " " + name
	}
	if d.object != "" {
		d.object += " (" + label + ")"
	} else {
		d.object = label
	}

	var target any
	switch kind {
	case v1beta1.CanaryKind:
		target = &v1beta1.Canary{}
	case v1beta1.MetricTemplateKind:
		target = &v1beta1.MetricTemplate{}
	case v1beta1.AlertProviderKind:
		target = &v1beta1.AlertProvider{}
	case "":
		l.policyErr(d, n, "kind", "required (Canary, MetricTemplate or AlertProvider)")
		return nil, false
	default:
		l.policyErr(d, kindNode, "kind", "%q is not a policy kind (want Canary, MetricTemplate or AlertProvider)", kind)
		return nil, false
	}
	switch av {
	case v1beta1.GroupVersion.String():
	case v1beta1.FlaggerGroupVersion.String():
		flagger = true
	case "":
		l.policyErr(d, n, "apiVersion", "required (%s or %s)", v1beta1.GroupVersion, v1beta1.FlaggerGroupVersion)
		return nil, false
	default:
		l.policyErr(d, avNode, "apiVersion", "want %s or %s, got %q", v1beta1.GroupVersion, v1beta1.FlaggerGroupVersion, av)
		return nil, false
	}
	if name == "" {
		l.policyErr(d, nil, "metadata.name", "required")
	}
	before := len(l.errs)
	sc := newShapeChecker(true, d.nodes, func(n *yaml.Node, path, msg string) {
		l.policyErr(d, n, path, "%s", msg)
	})
	sc.check(n, reflect.TypeOf(target).Elem(), "")
	d.keyLines = sc.keyLines
	if len(l.errs) > before {
		return nil, false
	}
	v, err := nodeToJSONValue(n, 0, new(int))
	if err != nil {
		l.policyErr(d, n, "", "%v", err)
		return nil, false
	}
	if m, ok := v.(map[string]any); ok {
		m["apiVersion"] = v1beta1.GroupVersion.String()
	}
	data, err := json.Marshal(v)
	if err != nil {
		l.policyErr(d, n, "", "%v", err)
		return nil, false
	}
	strict, err := k8sjson.UnmarshalStrict(data, target)
	for _, e := range append(strict, err) {
		if e == nil {
			continue
		}
		var fe k8sjson.FieldError
		if errors.As(e, &fe) {
			path := fe.FieldPath()
			l.policyErr(d, nodeAtPath(n, path), path, "%s", strings.TrimPrefix(e.Error(), "json: "))
		} else {
			l.policyErr(d, n, "", "%s", strings.TrimPrefix(e.Error(), "json: "))
		}
	}
	if len(l.errs) > before {
		return nil, false
	}
	switch o := target.(type) {
	case *v1beta1.Canary:
		if o.Namespace == "" {
			o.Namespace = DefaultNamespace
		}
	case *v1beta1.MetricTemplate:
		if o.Namespace == "" {
			o.Namespace = DefaultNamespace
		}
	case *v1beta1.AlertProvider:
		if o.Namespace == "" {
			o.Namespace = DefaultNamespace
		}
	}
	return target, flagger
}

// nodeAtPath finds the node of a dotted path (sequence indexes are not part of
// encoding/json's paths; a sequence is returned as a whole).
func nodeAtPath(n *yaml.Node, path string) *yaml.Node {
	for _, seg := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return n
		}
		v := mappingValue(n, seg)
		if v == nil {
			return n
		}
		n = v
	}
	return n
}

// maxJSONNodes bounds the expansion of YAML aliases when converting to JSON.
const maxJSONNodes = 1 << 20

// nodeToJSONValue converts a YAML node to a value encoding/json can marshal, with
// YAML's types (so that `port: "80"` stays a string, as kubectl would see it).
func nodeToJSONValue(n *yaml.Node, depth int, count *int) (any, error) {
	*count++
	if *count > maxJSONNodes || depth > 1000 {
		return nil, fmt.Errorf("line %d: document too large or too deeply nested", n.Line)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return nodeToJSONValue(n.Alias, depth+1, count)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeToJSONValue(n.Content[0], depth+1, count)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeToJSONValue(c, depth+1, count)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		explicit := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if isMergeKey(k) {
				continue
			}
			v, err := nodeToJSONValue(vn, depth+1, count)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
			explicit[k.Value] = true
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, vn := n.Content[i], n.Content[i+1]
			if !isMergeKey(k) {
				continue
			}
			for _, m := range mergeSources(vn) {
				v, err := nodeToJSONValue(m, depth+1, count)
				if err != nil {
					return nil, err
				}
				if mm, ok := v.(map[string]any); ok {
					for key, val := range mm {
						if !explicit[key] {
							if _, set := out[key]; !set {
								out[key] = val
							}
						}
					}
				}
			}
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, err
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, nil
			}
			var u uint64
			if err := n.Decode(&u); err == nil {
				return u, nil
			}
			return nil, fmt.Errorf("line %d: integer %s out of range", n.Line, n.Value)
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, err
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
			}
			return f, nil
		default:
			return n.Value, nil
		}
	}
	return nil, nil
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// mergeSources are the mappings a merge key's value names.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range v.Content {
			if c.Kind == yaml.AliasNode && c.Alias != nil {
				c = c.Alias
			}
			if c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}
