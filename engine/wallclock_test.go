package engine_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The engine reads time only through its Clock port: the simulator's virtual time,
// and idle-tick replay (sim/replay.go), depend on it. These calls read or wait on the
// wall clock instead.
var wallClock = map[string][]string{
	"time":                                 {"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"},
	"k8s.io/apimachinery/pkg/apis/meta/v1": {"Now", "NowMicro"},
}

// wallClockCalls lists "file:line: pkg.Func" for every use of a wallClock function in
// the Go source src of file.
func wallClockCalls(fset *token.FileSet, file string, src any) ([]string, error) {
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // local import name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if _, watched := wallClock[path]; !watched {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		path, ok := names[id.Name]
		if !ok {
			return true
		}
		for _, fn := range wallClock[path] {
			if sel.Sel.Name == fn {
				out = append(out, fmt.Sprintf("%s: %s.%s", fset.Position(sel.Pos()), id.Name, fn))
			}
		}
		return true
	})
	return out, nil
}

var _ = Describe("the engine's clock", func() {
	It("is only the Clock port: no code under engine/ reads or waits on wall time", func() {
		fset := token.NewFileSet()
		var found []string
		files := 0
		err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			files++
			calls, err := wallClockCalls(fset, path, nil)
			found = append(found, calls...)
			return err
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(BeNumerically(">", 20), "the walk reached the engine's packages")
		Expect(found).To(BeEmpty(), "use the engine's Clock (e.Clock / t.now) instead")
	})

	It("finds wall-clock reads however the package is imported", func() {
		calls, err := wallClockCalls(token.NewFileSet(), "x.go", `package x
import (
	stdtime "time"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)
var a = stdtime.Now()
var b = metav1.Now()
var c = stdtime.Duration(1)
`)
		Expect(err).NotTo(HaveOccurred())
		Expect(calls).To(Equal([]string{"x.go:6:9: stdtime.Now", "x.go:7:9: metav1.Now"}))
	})
})
