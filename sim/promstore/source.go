package promstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"k8s.io/utils/clock"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// Source is the simulator's metric source (the engine's analysis.MetricSource port):
// Prometheus' own PromQL engine evaluating instant queries over the simulator's storage
// at the virtual now. Results are read the way Flagger's Prometheus provider reads the
// Prometheus HTTP API (docs/flagger-semantics.md#prometheus-results), so a policy sees in simulation the same
// value, "no values found", or error message it would see in production.
type Source struct {
	Engine  *promql.Engine
	Storage storage.Queryable
	Clock   clock.PassiveClock
}

var _ analysis.MetricSource = (*Source)(nil)

// NewEngine returns a PromQL engine configured like a Prometheus server with default
// flags (LookbackDelta, @ modifier and negative offsets on, 1m default subquery step),
// without query logging or an active-query tracker.
func NewEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  time.Minute,
		LookbackDelta:            LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
}

// Query evaluates query as an instant query at the clock's now and returns one value
// as Flagger's Prometheus provider would: the last series of a vector (analysis.PickValue:
// empty or NaN = analysis.ErrNoValuesFound), analysis.ErrMultipleValuesReturned for a
// range vector, an "error unmarshaling result" error for a scalar or string result, and
// for a query Prometheus rejects, "error response: " followed by the JSON body the
// Prometheus HTTP API answers. provider.Address is ignored: there is one embedded
// Prometheus.
func (p *Source) Query(ctx context.Context, provider v1beta1.MetricTemplateProvider, query string) (float64, error) {
	if !analysis.IsPrometheusProvider(provider) {
		return 0, fmt.Errorf("metric provider %q is not supported by the simulator (only prometheus)", provider.Type)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("request failed: %w", err)
	}
	query = analysis.CollapseQuery(query) // as Flagger's trimQuery, before sending
	now := p.Clock.Now()

	q, err := p.Engine.NewInstantQuery(ctx, p.Storage, nil, query, now)
	if err != nil {
		// The HTTP API answers 400 bad_data for a query it cannot parse.
		return 0, apiErrorResponse("bad_data", fmt.Errorf("invalid parameter %q: %w", "query", err))
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("request failed: %w", ctx.Err())
		}
		return 0, apiErrorResponse(APIErrorType(res.Err), res.Err)
	}

	switch v := res.Value.(type) {
	case promql.Vector:
		values := make([]float64, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				continue // the simulator writes no native histograms
			}
			values = append(values, s.F)
		}
		return analysis.PickValue(values)
	case promql.Matrix:
		// Flagger reads a range vector's first series with "values" as multiple values;
		// an empty one has no series at all: no values found.
		values := make([]float64, len(v))
		return analysis.PickResult(analysis.ResultTypeMatrix, values)
	default: // promql.Scalar, promql.String
		return 0, flaggerUnmarshalError(query, res)
	}
}

// APIResponse is the Prometheus HTTP API's response envelope (web/api/v1 Response):
// what Flagger's provider decodes, and what sim/explore serves.
type APIResponse struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`
}

// APIQueryData is the API's data of a query result (web/api/v1 QueryData).
type APIQueryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

// APIErrorType maps an evaluation error to the errorType the HTTP API reports
// (web/api/v1 returnAPIError); APIErrorStatus has each one's HTTP status, >= 400.
func APIErrorType(err error) string {
	var (
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		storage  promql.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &timeout):
		return "timeout"
	case errors.As(err, &storage):
		return "internal"
	}
	return "execution"
}

// apiErrorResponse is the error Flagger 1.44 reports when the HTTP API answers an
// error: "error response: Status <code> <text>: <body>", with the status code the API
// uses for the error type (web/api/v1 returnAPIError).
func apiErrorResponse(errorType string, err error) error {
	body, _ := json.Marshal(APIResponse{Status: "error", ErrorType: errorType, Error: err.Error()})
	return analysis.ResponseStatusError(APIErrorStatus(errorType), body)
}

// APIErrorStatus is the HTTP status the API answers an error type with.
func APIErrorStatus(errorType string) int {
	switch errorType {
	case "bad_data":
		return http.StatusBadRequest
	case "execution":
		return http.StatusUnprocessableEntity
	case "canceled":
		return 499
	case "timeout":
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// flaggerUnmarshalError renders the successful API response for a scalar or string
// result and returns the error Flagger gets decoding it (analysis.DecodeResponse decodes
// like Flagger's provider: "error unmarshaling result: <json error>, '<body>'").
func flaggerUnmarshalError(query string, res *promql.Result) error {
	warnings, infos := res.Warnings.AsStrings(query, 10, 10)
	if len(warnings) == 0 {
		warnings = nil
	}
	if len(infos) == 0 {
		infos = nil
	}
	body, err := json.Marshal(APIResponse{
		Status:   "success",
		Data:     APIQueryData{ResultType: res.Value.Type(), Result: res.Value},
		Warnings: warnings,
		Infos:    infos,
	})
	if err != nil {
		return fmt.Errorf("error unmarshaling result: %w", err)
	}
	_, err = analysis.DecodeResponse(body)
	if err == nil {
		// Not reached for scalars and strings; kept so that a change of encoding is noticed.
		err = analysis.ResultTypeError(string(res.Value.Type()))
	}
	return err
}
