package reports_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("JSON results", func() {
	It("round-trips the full run records, byte for byte", func() {
		var first bytes.Buffer
		Expect(reports.WriteJSON(&first, suite())).To(Succeed())
		Expect(first.String()).To(HavePrefix("{\n  \"formatVersion\": 2,\n  \"tool\": \"aviary\",\n  \"results\": ["))
		Expect(first.String()).To(ContainSubstring("\"repeat\": "), "the fixture has repeated ticks")

		back, err := reports.ReadJSON(bytes.NewReader(first.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(Equal(suite()))

		var second bytes.Buffer
		Expect(reports.WriteJSON(&second, back)).To(Succeed())
		Expect(second.Bytes()).To(Equal(first.Bytes()))
	})

	It("keeps the values a report needs: NaN flags, resolved queries, events, expectations", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, suite())).To(Succeed())
		s := buf.String()
		Expect(s).To(ContainSubstring(`"nan": true`))
		Expect(s).To(ContainSubstring(`"query": "sum(rate(user_profile_legacy_record_reads_total`))
		Expect(s).To(ContainSubstring(`"message": "Rolling back user-profile-service.profiles failed checks threshold reached 3"`))
		Expect(s).To(ContainSubstring(`"ok": false`))
	})

	It("writes infinite metric values, which JSON cannot hold, and reads them back", func() {
		inf, negInf, lo := math.Inf(1), math.Inf(-1), 1.0
		r := &scenario.Result{Scenario: "inf", Mode: "fast", Ticks: stored(engine.TickRecord{
			At: scenario.Epoch.Add(time.Minute),
			Metrics: []analysis.Result{
				{Name: "ratio", Kind: "query", Value: &inf, Min: &lo, Outcome: analysis.OutcomePass},
				{Name: "delta", Kind: "query", Value: &negInf, Min: &lo, Outcome: analysis.OutcomeFail},
			},
		}), Baselines: []scenario.Baseline{{At: scenario.Epoch.Add(time.Minute), Name: "ratio", Kind: "query", Query: "q", Value: &negInf}}}
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, []*scenario.Result{r})).To(Succeed())
		Expect(*r.Ticks[0].Metrics[0].Value).To(Equal(inf), "the input is not modified")
		Expect(*r.Baselines[0].Value).To(Equal(negInf), "the input is not modified")
		back, err := reports.ReadJSON(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(math.IsInf(*back[0].Ticks[0].Metrics[0].Value, 1)).To(BeTrue())
		Expect(math.IsInf(*back[0].Ticks[0].Metrics[1].Value, -1)).To(BeTrue())
		Expect(math.IsInf(*back[0].Baselines[0].Value, -1)).To(BeTrue())
	})

	DescribeTable("rejects what it cannot read, saying why",
		func(input, want string) {
			_, err := reports.ReadJSON(strings.NewReader(input))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("not JSON", "<html>", "not an aviary results file: invalid JSON at line 1, column 1"),
		Entry("truncated", "{\"formatVersion\": 1,\n \"results\": [", "invalid JSON"),
		Entry("no version", `{"results": []}`, `no "formatVersion" field`),
		Entry("a future version", `{"formatVersion": 99, "tool": "aviary", "results": []}`, "results formatVersion 99 is not supported: this aviary reads formatVersion 1 to 2"),
		Entry("no version yet", `{"formatVersion": 0, "tool": "aviary", "results": []}`, "results formatVersion 0 is not supported"),
		Entry("another tool", `{"formatVersion": 1, "tool": "other", "results": []}`, `tool is "other"`),
		Entry("no results", `{"formatVersion": 1, "tool": "aviary"}`, `no "results" list`),
		Entry("a wrong type", `{"formatVersion": 1, "tool": "aviary", "results": [{"passed": "yes"}]}`, "line 1, column"),
	)

	It("reads a version 1 document, whose records each stand for one tick", func() {
		v1 := `{"formatVersion": 1, "tool": "aviary", "results": [{"scenario": "old", "mode": "fast", "ticks": [` +
			`{"at": "2026-01-01T00:00:00Z", "phase": "Succeeded"}, {"at": "2026-01-01T00:01:00Z", "phase": "Succeeded"}]}]}`
		back, err := reports.ReadJSON(strings.NewReader(v1))
		Expect(err).NotTo(HaveOccurred())
		Expect(back[0].Ticks).To(HaveLen(2))
		Expect(ticksOf(back[0])).To(HaveLen(2))
	})

	It("reads an empty suite", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, nil)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring(`"results": []`))
		back, err := reports.ReadJSON(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(BeEmpty())
	})
})

// decodeStrict decodes a results document as ReadJSON does, but rejecting any field
// the run record does not have.
func decodeStrict(data []byte) (reports.Document, error) {
	var doc reports.Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return doc, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return doc, errors.New("data after the document")
	}
	return doc, nil
}

var _ = Describe("the report tests' fixture, "+fixture, func() {
	It("is current in format: this aviary's formatVersion, and no field the run record does not have", func() {
		data, err := os.ReadFile(fixture)
		Expect(err).NotTo(HaveOccurred())
		doc, err := decodeStrict(data)
		Expect(err).NotTo(HaveOccurred(), "the run record changed: regenerate the fixture with `make report-fixture`")
		Expect(doc.FormatVersion).To(Equal(scenario.ResultFormatVersion), "regenerate the fixture with `make report-fixture`")
		Expect(doc.Tool).To(Equal(reports.Tool))
		Expect(doc.Results).To(HaveLen(len(suite())))
	})

	It("would be caught with a field the run record does not have", func() {
		data, err := os.ReadFile(fixture)
		Expect(err).NotTo(HaveOccurred())
		stale := bytes.Replace(data, []byte(`"passed": `), []byte(`"verdict": "gone", "passed": `), 1)
		Expect(stale).NotTo(Equal(data))
		_, err = decodeStrict(stale)
		Expect(err).To(MatchError(ContainSubstring(`unknown field "verdict"`)))
		_, err = reports.ReadJSON(bytes.NewReader(stale))
		Expect(err).NotTo(HaveOccurred(), "ReadJSON itself ignores unknown fields (compatible additions)")
	})
})
