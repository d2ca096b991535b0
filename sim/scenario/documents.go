package scenario

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// PolicyDocument is what one YAML document of a file says it is, read without
// decoding it: enough to tell scenarios, Canaries and the objects they reference apart.
type PolicyDocument struct {
	File                              string
	Line                              int
	APIVersion, Kind, Name, Namespace string
}

// PolicyDocuments reads the documents of one YAML file (empty ones dropped), for
// callers that sort files before loading them (`aviary lint`). The error names the
// file and, for invalid YAML, the line.
func PolicyDocuments(path string) ([]PolicyDocument, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Msg: withoutPath(err)}
	}
	nodes, err := parseDocuments(data)
	if err != nil {
		line, msg := yamlErrorLine(err)
		return nil, &LoadError{File: path, Line: line, Msg: "invalid YAML: " + msg}
	}
	out := make([]PolicyDocument, len(nodes))
	for i, n := range nodes {
		out[i] = documentOf(path, n)
	}
	return out, nil
}

// documentOf reads a document's header fields; a field that is not a scalar reads "".
func documentOf(file string, n *yaml.Node) PolicyDocument {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	meta := mappingValue(n, "metadata")
	return PolicyDocument{File: file, Line: n.Line,
		APIVersion: scalarString(mappingValue(n, "apiVersion")), Kind: scalarString(mappingValue(n, "kind")),
		Name: scalarString(mappingValue(meta, "name")), Namespace: scalarString(mappingValue(meta, "namespace"))}
}

// String names the document as messages do: "file:line: Kind name".
func (d PolicyDocument) String() string {
	return fmt.Sprintf("%s:%d: %s %s", d.File, d.Line, d.Kind, d.Name)
}
