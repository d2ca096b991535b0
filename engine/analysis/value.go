package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// ErrNaN is returned when a query's value is NaN. Flagger's Prometheus provider
// reports NaN exactly like an empty result ("no values found", PR #1095), so ErrNaN
// has that text and errors.Is(ErrNaN, ErrNoValuesFound) holds; aviary keeps the
// distinction (Result.NaN) for reports.
var ErrNaN = fmt.Errorf("%w", ErrNoValuesFound)

// PickValue is Flagger's Prometheus provider rule for an instant vector, given the
// sample values of its series in result order: no series → ErrNoValuesFound; the
// LAST series wins (Flagger's loop overwrites the value, although its comment says
// "first"); a NaN winner → ErrNaN. +Inf and -Inf are returned as numbers.
//
// The other result types are classified by Flagger's decoding of the HTTP API
// response (see DecodeResponse and ResultTypeError): a matrix with at least one
// series is ErrMultipleValuesReturned ("query returned multiple values"), an empty
// matrix is ErrNoValuesFound, and a scalar or string result fails to unmarshal
// ("error unmarshaling result: ..."). Simulated and live metric sources must both
// go through these helpers so they classify results identically.
func PickValue(values []float64) (float64, error) {
	if len(values) == 0 {
		return 0, fmt.Errorf("%w", ErrNoValuesFound)
	}
	v := values[len(values)-1]
	if math.IsNaN(v) {
		return 0, ErrNaN
	}
	return v, nil
}

// Prometheus API result types (the "resultType" of a query response).
const (
	ResultTypeVector = "vector"
	ResultTypeMatrix = "matrix"
	ResultTypeScalar = "scalar"
	ResultTypeString = "string"
)

// PickResult classifies an evaluated query result the way Flagger's Prometheus
// provider does, for sources that evaluate PromQL themselves (no HTTP body):
// vector → PickValue(values); matrix → ErrMultipleValuesReturned when it has a
// series (values holds one entry per series), ErrNoValuesFound when empty; scalar
// and string → ResultTypeError. A source that has the HTTP response body should
// use DecodeResponse instead, which produces Flagger's exact error texts.
func PickResult(resultType string, values []float64) (float64, error) {
	switch resultType {
	case ResultTypeVector:
		return PickValue(values)
	case ResultTypeMatrix:
		if len(values) > 0 {
			return 0, fmt.Errorf("%w", ErrMultipleValuesReturned)
		}
		return 0, fmt.Errorf("%w", ErrNoValuesFound)
	default:
		return 0, ResultTypeError(resultType)
	}
}

// ResultTypeError is the error of a result Flagger cannot decode (a scalar or a
// string: its "result" is a [time, "value"] pair, not a list of series). Its text
// starts like Flagger's "error unmarshaling result: ..."; Flagger then quotes the
// json error and the response body, which a source without a body cannot reproduce.
func ResultTypeError(resultType string) error {
	return fmt.Errorf("error unmarshaling result: cannot decode a %s result as an instant vector", resultType)
}

// prometheusResponse has the shape Flagger's Prometheus provider decodes a query
// response into; keeping it identical keeps json's error texts identical.
type prometheusResponse struct {
	Data struct {
		Result []struct {
			Metric struct {
				Name string `json:"name"`
			}
			Value  []interface{} `json:"value"`
			Values []interface{} `json:"values"`
		}
	}
}

// DecodeResponse interprets the body of a successful (status < 400) Prometheus
// /api/v1/query response exactly like Flagger's PrometheusProvider.RunQuery: a
// body that does not decode → "error unmarshaling result: <json error>, '<body>'"
// (this includes scalar and string results); any series with "values" (a matrix)
// → ErrMultipleValuesReturned; otherwise each series' value[1] string is parsed
// (a parse error is returned as is, non-string values are skipped) and the last
// one wins; none or NaN → ErrNoValuesFound (NaN: ErrNaN).
func DecodeResponse(body []byte) (float64, error) {
	var result prometheusResponse
	if err := json.Unmarshal(body, &result); err != nil {
		return 0, fmt.Errorf("error unmarshaling result: %w, '%s'", err, string(body))
	}
	var value *float64
	for _, v := range result.Data.Result {
		if v.Values != nil {
			return 0, fmt.Errorf("%w", ErrMultipleValuesReturned)
		}
		if len(v.Value) < 2 {
			// Flagger would panic (index out of range); report it as undecodable.
			return 0, fmt.Errorf("error unmarshaling result: sample without value, '%s'", string(body))
		}
		if s, ok := v.Value[1].(string); ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, err
			}
			value = &f
		}
	}
	if value == nil {
		return 0, fmt.Errorf("%w", ErrNoValuesFound)
	}
	if math.IsNaN(*value) {
		return 0, ErrNaN
	}
	return *value, nil
}

// ResponseStatusError is Flagger's error for a Prometheus response with status >= 400:
// "error response: Status <code> <text>: <body>".
func ResponseStatusError(status int, body []byte) error {
	return fmt.Errorf("error response: Status %d %s: %s", status, http.StatusText(status), string(body))
}
