package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	k8sjson "sigs.k8s.io/json"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
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
	// kind and obj are what the document decoded to.
	kind *policyKind
	obj  client.Object
}

func (l *loader) policyErr(d *policyDoc, n *yaml.Node, path, format string, args ...any) {
	line := lineIn(d, path) // the field, or the nearest enclosing one that is written
	if n != nil {
		line = n.Line
	}
	l.addErr(&LoadError{File: d.file, Line: line, Object: d.object, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// policyWarn records a load-time warning about a field of a policy object.
func (l *loader) policyWarn(d *policyDoc, rule, path, format string, args ...any) {
	l.warnings = append(l.warnings, Warning{Rule: rule, File: d.file, Line: lineIn(d, path), Object: d.object, Path: path, Field: path,
		Msg: fmt.Sprintf(format, args...)})
}

// loadPolicy reads spec.policy and decodes its objects into ld.
func (l *loader) loadPolicy(s *Scenario, ld *Loaded) {
	docs := l.readPolicyDocs(s)
	if len(l.errs) > 0 {
		return
	}
	var decoded []*policyDoc
	for _, d := range docs {
		obj, k, flagger := l.decodePolicyObject(d)
		if obj == nil {
			continue
		}
		d.obj, d.kind = obj, k
		decoded = append(decoded, d)
		if cd, ok := obj.(*v1beta1.Canary); ok {
			if ld.Canary != nil {
				l.policyErr(d, nil, "", "a scenario tests exactly one Canary (the first is %s)", ld.Canary.Name)
				continue
			}
			ld.Canary, ld.FlaggerExact = cd, flagger
			l.canaryDoc = d
		}
	}
	if len(l.errs) > 0 {
		return
	}
	if ld.Canary == nil && l.opts.CanaryFile != "" {
		l.errAt("spec.policy", "no Canary found in the canary file %s (it replaces the policy's Canary)", l.opts.CanaryFile)
		return
	}
	if ld.Canary == nil {
		l.errAt("spec.policy", "no Canary found (give one Canary, kind: Canary, in spec.policy.files or spec.policy.objects)")
		return
	}
	// Objects without a namespace are in the Canary's, as `kubectl apply -n` puts them.
	if ld.Canary.Namespace == "" {
		ld.Canary.Namespace = DefaultNamespace
	}
	ns := ld.Canary.Namespace
	names := map[string]*policyDoc{}
	for _, d := range decoded {
		switch {
		case d.kind.ClusterScoped:
			d.obj.SetNamespace("")
		case d.obj.GetNamespace() == "":
			d.obj.SetNamespace(ns)
		}
		key := d.kind.Kind + "/" + d.obj.GetNamespace() + "/" + d.obj.GetName()
		if first, dup := names[key]; dup {
			l.policyErr(d, nil, "metadata.name", "duplicate %s %q in namespace %s (first in %s:%d)", d.kind.Kind, d.obj.GetName(), d.obj.GetNamespace(), first.file, first.node.Line)
			continue
		}
		names[key] = d
		ld.docs[d.obj] = d
		l.checkObjectReplicas(d)
		switch o := d.obj.(type) {
		case *v1beta1.Canary:
		case *v1beta1.MetricTemplate:
			ld.Templates = append(ld.Templates, o)
			l.templateDocs = append(l.templateDocs, d)
		case *v1beta1.AlertProvider:
			ld.AlertProviders = append(ld.AlertProviders, o)
			l.alertDocs = append(l.alertDocs, d)
		case *appsv1.Deployment:
			if o.Namespace == ns && o.Name == ld.Canary.Spec.TargetRef.Name {
				ld.Target, l.targetDoc = o, d
				continue
			}
			if o.Name == ld.Canary.Spec.TargetRef.Name {
				l.policyWarn(d, RuleDeploymentNamespace, "metadata.namespace", "Deployment %s is in namespace %s, not in the Canary's (%s): it is created as given, but it is not the target, which aviary generates from spec.target",
					o.Name, o.Namespace, ns)
			}
			ld.Objects = append(ld.Objects, o)
		default:
			ld.Objects = append(ld.Objects, d.obj)
		}
	}
	if len(l.errs) > 0 {
		return
	}
	l.checkCanary(ld)
	if ld.Target != nil {
		l.checkTarget(s, ld)
	}
	if len(l.errs) == 0 {
		l.checkServices(ld)
	}
	l.checkAutoscaler(ld)
	l.checkTimelineConfigs(s, ld)
}

// readPolicyDocs parses the policy files and the inline objects.
func (l *loader) readPolicyDocs(s *Scenario) []*policyDoc {
	var docs, fromCanaryFile []*policyDoc
	files := s.Spec.Policy.Files
	if l.opts.CanaryFile != "" {
		files = append(slices.Clone(files), l.opts.CanaryFile)
	}
	for i, f := range files {
		p := f
		field := fmt.Sprintf("spec.policy.files[%d]", i)
		canaryFile := i == len(s.Spec.Policy.Files)
		switch {
		case canaryFile:
			// Given from Go, not written in the scenario: its problems are spec.policy's.
			field = "spec.policy"
		case !filepath.IsAbs(p):
			p = filepath.Join(filepath.Dir(l.file), f)
		}
		data, err := ReadFile(p)
		if err != nil {
			switch {
			case canaryFile:
				l.addErr(&LoadError{File: p, Msg: "canary file: " + withoutPath(err)})
			case errors.Is(err, fs.ErrNotExist):
				l.errAt(field, "policy file %s not found (paths are relative to the scenario file)", p)
			default:
				l.errAt(field, "policy file %s: %s", p, withoutPath(err))
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
		if n := len(docs) + len(fromCanaryFile) + len(nodes) + len(s.Spec.Policy.Objects); n > MaxPolicyObjects {
			l.errAt(field, "%s", objectsLimit.Msg("policy file %s brings the policy to %d objects, more than %d", p, n, MaxPolicyObjects))
			return nil
		}
		for _, n := range nodes {
			d := &policyDoc{file: p, node: n}
			if canaryFile {
				fromCanaryFile = append(fromCanaryFile, d)
			} else {
				docs = append(docs, d)
			}
		}
	}
	for i := range s.Spec.Policy.Objects {
		n := &s.Spec.Policy.Objects[i]
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		docs = append(docs, &policyDoc{file: l.file, node: n, object: fmt.Sprintf("spec.policy.objects[%d]", i)})
	}
	if l.opts.CanaryFile != "" {
		// The canary file's Canary replaces the policy's.
		docs = slices.DeleteFunc(docs, func(d *policyDoc) bool {
			k := mappingValue(d.node, "kind")
			return k != nil && k.Value == "Canary"
		})
	}
	docs = append(docs, fromCanaryFile...)
	if l.opts.Canary != "" || l.opts.OtherKinds {
		docs = slices.DeleteFunc(docs, l.leftOut)
	}
	return docs
}

// leftOut reports whether the options leave a document out: a Canary other than
// LoadOptions.Canary, a kind no policy holds with LoadOptions.OtherKinds.
func (l *loader) leftOut(d *policyDoc) bool {
	doc := documentOf(d.file, d.node)
	switch {
	case l.opts.OtherKinds && doc.Kind != "" && kindNamed(doc.Kind) == nil:
		return true
	case l.opts.Canary != "" && doc.Kind == v1beta1.CanaryKind:
		ns, name, qualified := strings.Cut(l.opts.Canary, "/")
		if !qualified {
			return doc.Name != ns
		}
		namespace := doc.Namespace
		if namespace == "" {
			namespace = DefaultNamespace
		}
		return doc.Name != name || namespace != ns
	}
	return false
}

// checkCanary checks what the Canary asks of the engine: a target, an analysis, and
// nothing the engine would refuse at run time (engine.(*Engine).Unsupported, the code
// a tick asks), nor a metric provider the simulator does not query.
func (l *loader) checkCanary(ld *Loaded) {
	cd, d := ld.Canary, l.canaryDoc
	switch {
	case cd.Spec.TargetRef.Name == "":
		l.policyErr(d, nil, "spec.targetRef.name", "required: the name of the Deployment under test")
	case cd.Spec.TargetRef.Kind == "":
		l.policyErr(d, nil, "spec.targetRef.kind", "required (Deployment)")
	}
	switch {
	case cd.Spec.Analysis == nil && cd.Spec.CanaryAnalysis != nil:
		l.policyErr(d, nil, "spec.canaryAnalysis", "Flagger 1.x has no canaryAnalysis: its CRD drops the field and the Canary is left "+
			`without spec.analysis, which the CRD requires and Flagger's controller dereferences; rename it to analysis ("aviary convert %s" does)`, d.file)
	case cd.Spec.Analysis == nil:
		l.policyErr(d, nil, "spec.analysis", "required: Flagger's CRD requires spec.analysis (interval, threshold and a stepWeight, stepWeights or iterations)")
	case cd.Spec.CanaryAnalysis != nil:
		l.policyWarn(d, RuleCanaryAnalysisIgnored, "spec.canaryAnalysis", "ignored: Flagger 1.x has no such field (spec.analysis is used)")
	}
	if cd.Spec.TargetRef.Kind != "" {
		for _, u := range (&engine.Engine{}).Unsupported(cd) {
			l.policyErr(d, nil, u.Field, "%s", u.Msg)
		}
	}
	a := cd.GetAnalysis()
	if a == nil {
		return
	}
	if cd.Spec.Analysis != nil {
		// Typed, a missing interval or threshold is "" or 0, which the API server would
		// judge as written; a Canary applied without them is refused as required.
		for _, f := range []struct{ key, what string }{
			{"interval", "the time between two analysis ticks, e.g. 1m"},
			{"threshold", "how many failed checks roll the canary back"},
		} {
			if p := "spec.analysis." + f.key; !docHas(d, p) {
				l.policyErr(d, nil, p, "required: Flagger's CRD requires it (%s)", f.what)
			}
		}
	}
	for i, m := range a.Metrics {
		if t, td, _ := l.templateOf(ld, m); t != nil && !analysis.IsPrometheusProvider(t.Spec.Provider) {
			l.policyErr(td, nil, "spec.provider.type",
				"metric provider type %q is not supported by aviary yet: the simulator answers Prometheus queries only (type prometheus, or a type Flagger handles as Prometheus); metric %q of Canary %s uses this template (spec.analysis.metrics[%d])",
				t.Spec.Provider.Type, m.Name, cd.Name, i)
		}
	}
}

// docHas reports whether a policy document writes the field at path (null is not
// writing it).
func docHas(d *policyDoc, path string) bool {
	n, ok := d.nodes[path]
	return ok && !isNull(n)
}

// checkObjectReplicas checks the replicas a policy object gives a simulated
// Deployment: a Deployment's spec.replicas, a HorizontalPodAutoscaler's
// spec.minReplicas (the target's replicas when it scales from zero).
func (l *loader) checkObjectReplicas(d *policyDoc) {
	var r *int32
	path := "spec.replicas"
	switch o := d.obj.(type) {
	case *appsv1.Deployment:
		r = o.Spec.Replicas
	case *autoscalingv2.HorizontalPodAutoscaler:
		r, path = o.Spec.MinReplicas, "spec.minReplicas"
	}
	if r != nil {
		checkReplicas(*r, func(format string, args ...any) { l.policyErr(d, nil, path, format, args...) })
	}
}

// checkAutoscaler warns when autoscalerRef names an HPA that is not among the policy
// objects: Flagger fails every tick reading it and never initializes.
func (l *loader) checkAutoscaler(ld *Loaded) {
	cd := ld.Canary
	ref := cd.Spec.AutoscalerRef
	if ref == nil || ref.Kind != "HorizontalPodAutoscaler" {
		return
	}
	for _, o := range ld.Objects {
		if h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok && h.Name == ref.Name && h.Namespace == cd.Namespace {
			return
		}
	}
	l.policyWarn(l.canaryDoc, RuleAutoscalerMissing, "spec.autoscalerRef", "HorizontalPodAutoscaler %s.%s is not among the policy objects — Flagger would fail every tick with \"HorizontalPodAutoscaler %s.%s get query error\" and never initialize",
		ref.Name, cd.Namespace, ref.Name, cd.Namespace)
}

// decodePolicyObject checks and decodes one policy document as the API server would:
// a kind of policyKinds, one of its apiVersions (an older one converted or refused),
// every field known and of its type. It returns nil after recording an error.
func (l *loader) decodePolicyObject(d *policyDoc) (obj client.Object, k *policyKind, flagger bool) {
	d.nodes = map[string]*yaml.Node{}
	n := d.node
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		l.policyErr(d, n, "", "want a Kubernetes object (a mapping with apiVersion, kind, metadata and spec), got %s", describe(n))
		return nil, nil, false
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

	k = kindNamed(kind)
	switch {
	case kind == "":
		l.policyErr(d, n, "kind", "required (one of %s)", acceptedKinds())
		return nil, nil, false
	case k == nil:
		l.policyErr(d, kindNode, "kind", "%q is not a kind a policy may hold; aviary accepts %s", kind, acceptedKinds())
		return nil, nil, false
	}
	want := strings.Join(k.APIVersions, " or ")
	switch lv, legacy := k.Legacy[av]; {
	case av == "":
		l.policyErr(d, n, "apiVersion", "required (%s)", want)
		return nil, nil, false
	case legacy && lv.convert == nil:
		l.policyErr(d, avNode, "apiVersion", "%s: %s", av, fmt.Sprintf(lv.refusal, d.file))
		return nil, nil, false
	case legacy:
		if msg := lv.convert(n); msg != "" {
			l.warnings = append(l.warnings, Warning{Rule: RuleAPIVersionConverted, File: d.file, Line: avNode.Line, Object: d.object,
				Path: "apiVersion", Field: "apiVersion", Msg: msg})
		}
	case !slices.Contains(k.APIVersions, av):
		l.policyErr(d, avNode, "apiVersion", "want %s, got %q", want, av)
		return nil, nil, false
	}
	flagger = k.Flagger && av == v1beta1.FlaggerGroupVersion.String()
	if name == "" {
		l.policyErr(d, nil, "metadata.name", "required")
	}
	target := k.New(av)
	before := len(l.errs)
	sc := newShapeChecker(true, d.nodes, func(n *yaml.Node, path, msg string) {
		l.policyErr(d, n, path, "%s", msg)
	})
	sc.check(n, reflect.TypeOf(target).Elem(), "")
	d.keyLines = sc.keyLines
	if len(l.errs) > before {
		return nil, nil, false
	}
	v, err := nodeToJSONValue(n, 0, new(int))
	if err != nil {
		l.policyErr(d, n, "", "%v", err)
		return nil, nil, false
	}
	if m, ok := v.(map[string]any); ok && k.Flagger {
		m["apiVersion"] = v1beta1.GroupVersion.String()
	}
	data, err := json.Marshal(v)
	if err != nil {
		l.policyErr(d, n, "", "%v", err)
		return nil, nil, false
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
		return nil, nil, false
	}
	asStored(target)
	return target, k, flagger
}

// asStored does to a decoded object what the API server does on create and the fast
// client does not, where the engine would see the difference: a Secret's stringData is
// merged into data (its tracked checksum is of data) and its type defaults to Opaque.
// Status is dropped: a create ignores it.
func asStored(obj client.Object) {
	switch o := obj.(type) {
	case *corev1.Secret:
		for key, v := range o.StringData {
			if o.Data == nil {
				o.Data = map[string][]byte{}
			}
			o.Data[key] = []byte(v)
		}
		o.StringData = nil
		if o.Type == "" {
			o.Type = corev1.SecretTypeOpaque
		}
	case *appsv1.Deployment:
		o.Status = appsv1.DeploymentStatus{}
	case *corev1.Service:
		o.Status = corev1.ServiceStatus{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	}
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
