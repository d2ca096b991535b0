package reports_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// FuzzReadJSON feeds arbitrary bytes to ReadJSON, what `aviary report FILE` reads:
// it must never panic; an error must say something, and for input that is not JSON
// where (line and column); what it reads must be written again (WriteJSON) as a
// document that reads back to the same bytes, and reading the same input twice must
// write the same bytes. The seeds are small documents made of the frozen run
// records' shortest ones (testdata/results.json) and a few wrong headers.
func FuzzReadJSON(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "results.json"))
	if err != nil {
		f.Fatal(err)
	}
	records, err := reports.ReadJSON(bytes.NewReader(data))
	if err != nil {
		f.Fatal(err)
	}
	// The whole file is 1.5 MB: too big for the mutator to get anywhere.
	slices.SortStableFunc(records, func(a, b *scenario.Result) int { return len(a.Ticks) - len(b.Ticks) })
	for _, rs := range [][]*scenario.Result{records[:1], records[1:3]} {
		var buf bytes.Buffer
		if err := reports.WriteJSON(&buf, rs); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"formatVersion": 1}`, `{"formatVersion": 2, "results": []}`,
		`{"formatVersion": 1, "tool": "other", "results": [{}]}`, `{"formatVersion": 1, "results": [null]}`,
		`{"formatVersion": 1, "results": [{"ticks": [{"metrics": [{"value": 1.7976931348623157e308}]}]}]}`,
		"{\"formatVersion\": 1,\n \"results\": [{\"scenario\": 3}]}", "{\"formatVersion\": 1,\n \"results\": [",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		results, err := reports.ReadJSON(bytes.NewReader(data))
		if err != nil {
			if results != nil {
				t.Fatalf("results and an error: %v", err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an empty error")
			}
			if !json.Valid(data) && !lineColumn.MatchString(err.Error()) {
				t.Fatalf("invalid JSON, and the error does not say where: %v", err)
			}
			return
		}
		written := writeJSON(t, results)
		again, err := reports.ReadJSON(bytes.NewReader(data))
		if err != nil || !bytes.Equal(writeJSON(t, again), written) {
			t.Fatalf("read twice, two outcomes (%v)", err)
		}
		back, err := reports.ReadJSON(bytes.NewReader(written))
		if err != nil {
			t.Fatalf("what was read does not read back once written: %v\n%s", err, written)
		}
		if rewritten := writeJSON(t, back); !bytes.Equal(rewritten, written) {
			t.Fatalf("written, read and written again, the document changed:\n%s\n---\n%s", written, rewritten)
		}
	})
}

var lineColumn = regexp.MustCompile(`line \d+, column \d+`)

func writeJSON(t *testing.T, results []*scenario.Result) []byte {
	var buf bytes.Buffer
	if err := reports.WriteJSON(&buf, results); err != nil {
		t.Fatalf("what was read cannot be written: %v", err)
	}
	return buf.Bytes()
}
