package analysis_test

import (
	"errors"
	"math"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine/analysis"
)

var _ = Describe("PickValue", func() {
	It("reports no values for an empty vector", func() {
		_, err := analysis.PickValue(nil)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
		Expect(errors.Is(err, analysis.ErrNaN)).To(BeFalse())
		Expect(err.Error()).To(Equal("no values found"))
	})

	It("lets the last series win", func() {
		Expect(analysis.PickValue([]float64{1, 2, 3})).To(Equal(3.0))
	})

	It("reports NaN as no values found, distinguishable as ErrNaN", func() {
		_, err := analysis.PickValue([]float64{1, math.NaN()})
		Expect(errors.Is(err, analysis.ErrNoValuesFound)).To(BeTrue())
		Expect(errors.Is(err, analysis.ErrNaN)).To(BeTrue())
		Expect(err.Error()).To(Equal("no values found"))
	})

	It("does not look at a NaN that is not last", func() {
		Expect(analysis.PickValue([]float64{math.NaN(), 7})).To(Equal(7.0))
	})

	It("returns infinities as numbers", func() {
		Expect(analysis.PickValue([]float64{math.Inf(1)})).To(Equal(math.Inf(1)))
		Expect(analysis.PickValue([]float64{math.Inf(-1)})).To(Equal(math.Inf(-1)))
	})
})

var _ = Describe("PickResult", func() {
	It("picks from a vector", func() {
		Expect(analysis.PickResult(analysis.ResultTypeVector, []float64{4, 5})).To(Equal(5.0))
	})
	It("refuses a matrix with series", func() {
		_, err := analysis.PickResult(analysis.ResultTypeMatrix, []float64{1})
		Expect(err).To(MatchError(analysis.ErrMultipleValuesReturned))
		Expect(err.Error()).To(Equal("query returned multiple values"))
	})
	It("reports an empty matrix as no values", func() {
		_, err := analysis.PickResult(analysis.ResultTypeMatrix, nil)
		Expect(err).To(MatchError(analysis.ErrNoValuesFound))
	})
	It("fails to decode a scalar like Flagger", func() {
		_, err := analysis.PickResult(analysis.ResultTypeScalar, []float64{1})
		Expect(err).To(MatchError(HavePrefix("error unmarshaling result: ")))
		Expect(errors.Is(err, analysis.ErrNoValuesFound)).To(BeFalse())
	})
})

var _ = Describe("DecodeResponse", func() {
	DescribeTable("decodes Prometheus query responses like Flagger's provider",
		func(body string, want float64, wantErr error) {
			v, err := analysis.DecodeResponse([]byte(body))
			if wantErr != nil {
				Expect(err).To(MatchError(wantErr))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(v).To(Equal(want))
		},
		Entry("vector", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"100"]}]}}`, 100.0, nil),
		Entry("last series wins", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}`, 2.0, nil),
		Entry("empty vector", `{"status":"success","data":{"resultType":"vector","result":[]}}`, 0.0, analysis.ErrNoValuesFound),
		Entry("NaN", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`, 0.0, analysis.ErrNaN),
		Entry("+Inf", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]}]}}`, math.Inf(1), nil),
		Entry("matrix", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}}`, 0.0, analysis.ErrMultipleValuesReturned),
		Entry("empty matrix", `{"status":"success","data":{"resultType":"matrix","result":[]}}`, 0.0, analysis.ErrNoValuesFound),
	)

	It("fails to unmarshal a scalar result, quoting the body", func() {
		body := `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`
		_, err := analysis.DecodeResponse([]byte(body))
		Expect(err).To(MatchError(And(HavePrefix("error unmarshaling result: json: cannot unmarshal number"), HaveSuffix(", '"+body+"'"))))
	})

	It("returns the float parse error as is", func() {
		_, err := analysis.DecodeResponse([]byte(`{"data":{"result":[{"metric":{},"value":[1,"abc"]}]}}`))
		Expect(err).To(MatchError(`strconv.ParseFloat: parsing "abc": invalid syntax`))
	})

	It("formats HTTP status errors like Flagger", func() {
		Expect(analysis.ResponseStatusError(400, []byte("bad query"))).To(MatchError("error response: Status 400 Bad Request: bad query"))
	})
})
