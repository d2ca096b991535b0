package scaffold

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aviary.dev/aviary/engine"
)

// A scenario file is built as a YAML node tree, so that keys keep the format's order
// and an expectation carries its reason as a comment.

// field is one key of a mapping: its value and the comment written after it.
type field struct {
	key     string
	value   *yaml.Node
	comment string
}

func mapping(fields ...field) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fields {
		if f.value == nil {
			continue
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: f.key}
		if f.comment != "" {
			f.value.LineComment = f.comment
			if f.value.Kind != yaml.ScalarNode && f.value.Style != yaml.FlowStyle {
				// a block's line comment would sit after its first entry
				f.value.LineComment, k.LineComment = "", f.comment
			}
		}
		n.Content = append(n.Content, k, f.value)
	}
	return n
}

// flow is the same mapping written on one line.
func flow(fields ...field) *yaml.Node {
	n := mapping(fields...)
	n.Style = yaml.FlowStyle
	return n
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s, Tag: "!!str"} }

// folded is a long string written as a folded block (>), wrapped by the encoder.
func folded(s string) *yaml.Node {
	n := str(s)
	n.Style = yaml.FoldedStyle
	return n
}

func num[N int | int32 | int64](v N) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatInt(int64(v), 10), Tag: "!!int"}
}

func float(v float64) *yaml.Node {
	// untagged: a whole number reads back as the float the field is
	return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(v, 'g', -1, 64)}
}

func dur(d time.Duration) *yaml.Node { return str(engine.FormatDuration(d)) }

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

func flowSeq(items ...*yaml.Node) *yaml.Node {
	n := seq(items...)
	n.Style = yaml.FlowStyle
	return n
}

func strs(ss []string) *yaml.Node {
	n := seq()
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
	}
	return n
}

func ints(xs []int) *yaml.Node {
	n := flowSeq()
	for _, x := range xs {
		n.Content = append(n.Content, num(x))
	}
	return n
}

// headerWidth is where a header's lines are wrapped.
const headerWidth = 92

// wrap breaks s into lines of at most width runes at spaces (a longer word stays whole).
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// render writes a document with its header comment.
func render(header []string, doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	for _, h := range header {
		if h == "" {
			b.WriteString("#\n")
			continue
		}
		for _, line := range wrap(h, headerWidth) {
			fmt.Fprintf(&b, "# %s\n", line)
		}
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("writing the scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing the scenario: %w", err)
	}
	return b.Bytes(), nil
}
