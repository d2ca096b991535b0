package scenario

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"aviary.dev/aviary/sim/world"
)

// ---------------------------------------------------------------------------------
// Shape checking: keys, kinds and scalar types of a YAML tree against a Go type.

// shapeChecker walks a YAML node tree alongside a Go type, checking every key against
// the type's yaml (or, for Kubernetes objects, json) tags and every scalar against the
// field's type, and records the node of every field path.
type shapeChecker struct {
	json   bool
	nodes  map[string]*yaml.Node
	seen   map[seenKey]bool
	report func(n *yaml.Node, path, msg string)
	// keyLines is the line of each field's key: errors about a mapping-valued field
	// point at "field:", not at the mapping's first entry.
	keyLines map[string]int
}

type seenKey struct {
	n *yaml.Node
	t reflect.Type
}

func newShapeChecker(useJSON bool, nodes map[string]*yaml.Node, report func(*yaml.Node, string, string)) *shapeChecker {
	return &shapeChecker{json: useJSON, nodes: nodes, seen: map[seenKey]bool{}, report: report, keyLines: map[string]int{}}
}

var (
	durationType       = reflect.TypeOf(world.Duration{})
	countType          = reflect.TypeOf(Count{})
	nodeType           = reflect.TypeOf(yaml.Node{})
	jsonUnmarshalerTyp = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	yamlUnmarshalerTyp = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

func (c *shapeChecker) check(n *yaml.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if _, ok := c.nodes[path]; !ok {
		c.nodes[path] = n
	}
	k := seenKey{n, t}
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	if isNull(n) {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nodeType:
		return
	case !c.json && t == durationType:
		c.duration(n, path)
		return
	case !c.json && t == countType:
		c.count(n, path)
		return
	case c.json && (t.Implements(jsonUnmarshalerTyp) || reflect.PointerTo(t).Implements(jsonUnmarshalerTyp)):
		return
	case !c.json && (t.Implements(yamlUnmarshalerTyp) || reflect.PointerTo(t).Implements(yamlUnmarshalerTyp)):
		return
	}
	switch t.Kind() {
	case reflect.Interface:
	case reflect.Struct:
		c.structMapping(n, t, path)
	case reflect.Map:
		c.mapMapping(n, t, path)
	case reflect.Slice, reflect.Array:
		if c.json && t.Elem().Kind() == reflect.Uint8 {
			c.scalar(n, path, "a base64 string", "!!str")
			return
		}
		if n.Kind != yaml.SequenceNode {
			c.report(n, path, "want a list, got "+describe(n))
			return
		}
		for i, e := range n.Content {
			c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if c.json {
			c.scalar(n, path, "a string", "!!str")
		} else if n.Kind != yaml.ScalarNode {
			c.report(n, path, "want a string, got "+describe(n))
		}
	case reflect.Bool:
		c.scalar(n, path, "true or false", "!!bool")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if c.scalar(n, path, "an integer", "!!int") {
			if err := n.Decode(reflect.New(t).Interface()); err != nil {
				c.report(n, path, fmt.Sprintf("integer %s out of range for this field", n.Value))
			}
		}
	case reflect.Float32, reflect.Float64:
		if c.scalar(n, path, "a number", "!!int", "!!float") && c.json {
			var f float64
			if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				c.report(n, path, fmt.Sprintf("want a finite number, got %s", n.Value))
			}
		}
	default:
		c.report(n, path, "field of unsupported type "+t.String())
	}
}

// scalar checks that n is a scalar with one of the given tags.
func (c *shapeChecker) scalar(n *yaml.Node, path, want string, tags ...string) bool {
	if n.Kind == yaml.ScalarNode {
		tag := n.ShortTag()
		for _, t := range tags {
			if tag == t {
				return true
			}
		}
	}
	c.report(n, path, fmt.Sprintf("want %s, got %s", want, describe(n)))
	return false
}

func (c *shapeChecker) duration(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		c.report(n, path, "want a Go duration such as 30s or 5m, got "+describe(n))
		return
	}
	var d world.Duration
	if err := d.UnmarshalYAML(n); err != nil {
		c.report(n, path, strings.TrimPrefix(err.Error(), fmt.Sprintf("line %d: ", n.Line)))
	}
}

func (c *shapeChecker) count(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		c.scalar(n, path, "an integer or {min, max}", "!!int")
	case yaml.MappingNode:
		hasBound := false
		c.eachPair(n, path, func(k, v *yaml.Node, kp string) {
			switch k.Value {
			case "min", "max":
				hasBound = true
				c.check(v, reflect.TypeOf(int64(0)), kp)
			default:
				c.report(k, kp, "unknown field"+suggest(k.Value, []string{"min", "max"}))
			}
		})
		if !hasBound {
			c.report(n, path, "a count range needs min or max")
		}
	default:
		c.report(n, path, "want an integer or {min, max}, got "+describe(n))
	}
}

// eachPair calls f for every key/value of a mapping (merge keys expanded, explicit
// keys first), reporting non-scalar and duplicate keys.
func (c *shapeChecker) eachPair(n *yaml.Node, path string, f func(k, v *yaml.Node, keyPath string)) {
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			c.report(k, path, "want a string key, got "+describe(k))
			continue
		}
		kp := world.JoinKey(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			c.report(k, kp, fmt.Sprintf("duplicate key (first at line %d)", first.Line))
			continue
		}
		seen[k.Value] = k
		if _, ok := c.keyLines[kp]; !ok {
			c.keyLines[kp] = k.Line
		}
		f(k, v, kp)
	}
	for _, m := range merges {
		srcs := mergeSources(m)
		if len(srcs) == 0 {
			c.report(m, path, "a merge key (<<) needs a mapping or a list of mappings")
		}
		for _, src := range srcs {
			for i := 0; i+1 < len(src.Content); i += 2 {
				k, v := src.Content[i], src.Content[i+1]
				if k.Kind != yaml.ScalarNode || isMergeKey(k) || seen[k.Value] != nil {
					continue
				}
				seen[k.Value] = k
				f(k, v, world.JoinKey(path, k.Value))
			}
		}
	}
}

func (c *shapeChecker) structMapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		c.report(n, path, "want a mapping, got "+describe(n))
		return
	}
	fields := fieldsOf(t, c.json)
	c.eachPair(n, path, func(k, v *yaml.Node, kp string) {
		ft, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			c.report(k, kp, "unknown field"+suggest(k.Value, names))
			return
		}
		c.check(v, ft, kp)
	})
}

func (c *shapeChecker) mapMapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		c.report(n, path, "want a mapping, got "+describe(n))
		return
	}
	c.eachPair(n, path, func(k, v *yaml.Node, kp string) {
		c.check(v, t.Elem(), kp)
	})
}

type fieldsKey struct {
	t    reflect.Type
	json bool
}

var fieldsCache sync.Map // fieldsKey -> map[string]reflect.Type

// fieldsOf maps the keys a struct accepts to their types, following yaml or json
// tags and inlined (embedded) structs.
func fieldsOf(t reflect.Type, useJSON bool) map[string]reflect.Type {
	key := fieldsKey{t, useJSON}
	if v, ok := fieldsCache.Load(key); ok {
		return v.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	collectFields(t, useJSON, out)
	fieldsCache.Store(key, out)
	return out
}

func collectFields(t reflect.Type, useJSON bool, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tagName := "yaml"
		if useJSON {
			tagName = "json"
		}
		tag := f.Tag.Get(tagName)
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		inline := strings.Contains(","+opts+",", ",inline,")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if (inline || (f.Anonymous && name == "")) && ft.Kind() == reflect.Struct {
			collectFields(ft, useJSON, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			if useJSON {
				name = f.Name
			} else {
				name = strings.ToLower(f.Name)
			}
		}
		if _, dup := out[name]; !dup {
			out[name] = f.Type
		}
	}
}

// suggest returns " (did you mean X?)" for the closest known name, if close enough.
func suggest(key string, names []string) string {
	best, bestD := "", 3
	sort.Strings(names)
	for _, n := range names {
		d := editDistance(strings.ToLower(key), strings.ToLower(n))
		if d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ---------------------------------------------------------------------------------
// Small YAML helpers

func isNull(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// mappingValue returns the value of key in a mapping node, nil if absent.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// scalarString is the value of a string scalar, "" otherwise.
func scalarString(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return ""
	}
	return n.Value
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		return strconv.Quote(v)
	}
	return "nothing"
}

// parentPath drops the last segment of a field path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			// an index or a quoted key; a quoted key may contain "[", so find the
			// opening bracket that starts a quoted string or a number
			if j := strings.LastIndex(p, "[\""); j >= 0 && strings.HasSuffix(p, "\"]") {
				return p[:j]
			}
			return p[:i]
		}
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

func sortedMapKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
