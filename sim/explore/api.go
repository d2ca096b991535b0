package explore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"aviary.dev/aviary/sim/promstore"
)

// maxPoints is how many steps a range query may have, Prometheus' limit.
const maxPoints = 11000

// Handler serves the read part of the Prometheus HTTP API over the world:
// /api/v1/query, query_range, series, labels and label/<name>/values, by GET or
// POST form, in Prometheus' JSON envelope with its error types. Times are Unix
// seconds (or RFC 3339) of the world's absolute time: Start is the scenario's
// virtual 0. A query without a time is evaluated at End, the world's now.
// Prometheus' own web/api/v1 is not reused: its constructor wants some forty
// collaborators (TSDB, scrape, rules, remote write) for the five reads served here.
func (w *World) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", w.serve(w.instantQuery))
	mux.HandleFunc("/api/v1/query_range", w.serve(w.rangeQuery))
	mux.HandleFunc("/api/v1/series", w.serve(w.series))
	mux.HandleFunc("/api/v1/labels", w.serve(w.labelNames))
	mux.HandleFunc("/api/v1/label/{name}/values", w.serve(w.labelValues))
	return mux
}

// apiError is an error of the API's with its errorType.
type apiError struct {
	typ string
	err error
}

func (e *apiError) Error() string { return e.err.Error() }

// badData is a request the API rejects as bad_data.
func badData(format string, args ...any) error {
	return &apiError{typ: "bad_data", err: fmt.Errorf(format, args...)}
}

// endpoint answers a request with the data of a success, its warnings, or an error.
type endpoint func(r *http.Request) (data any, warnings []string, err error)

// serve writes an endpoint's answer in the API's envelope.
func (w *World) serve(e endpoint) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			rw.Header().Set("Allow", "GET, POST")
			http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			writeAPI(rw, http.StatusBadRequest, promstore.APIResponse{Status: "error", ErrorType: "bad_data", Error: err.Error()})
			return
		}
		data, warnings, err := e(r)
		if err != nil {
			typ := promstore.APIErrorType(err)
			if ae, ok := errors.AsType[*apiError](err); ok {
				typ = ae.typ
			} else if _, ok := errors.AsType[*QueryError](err); ok {
				typ = "bad_data"
			}
			writeAPI(rw, promstore.APIErrorStatus(typ), promstore.APIResponse{Status: "error", ErrorType: typ, Error: err.Error()})
			return
		}
		writeAPI(rw, http.StatusOK, promstore.APIResponse{Status: "success", Data: data, Warnings: warnings})
	}
}

func writeAPI(rw http.ResponseWriter, status int, body promstore.APIResponse) {
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(body) // the client is gone
}

func (w *World) instantQuery(r *http.Request) (any, []string, error) {
	t, err := timeParam(r, "time", w.End)
	if err != nil {
		return nil, nil, err
	}
	return w.answer(r, func(ctx context.Context, q string) (*Answer, error) { return w.Query(ctx, q, t) })
}

func (w *World) rangeQuery(r *http.Request) (any, []string, error) {
	start, err := timeParam(r, "start", time.Time{})
	if err != nil {
		return nil, nil, err
	}
	end, err := timeParam(r, "end", time.Time{})
	if err != nil {
		return nil, nil, err
	}
	if start.IsZero() || end.IsZero() {
		return nil, nil, badData("start and end are required")
	}
	step, err := durationParam(r.FormValue("step"))
	if err != nil {
		return nil, nil, badData("invalid parameter \"step\": %w", err)
	}
	if step > 0 && end.Sub(start)/step > maxPoints {
		return nil, nil, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	return w.answer(r, func(ctx context.Context, q string) (*Answer, error) { return w.QueryRange(ctx, q, start, end, step) })
}

// answer runs the query of the request's "query" parameter and returns its data.
func (w *World) answer(r *http.Request, query func(context.Context, string) (*Answer, error)) (any, []string, error) {
	expr := r.FormValue("query")
	a, err := query(r.Context(), expr)
	if err != nil {
		if qe, ok := errors.AsType[*QueryError](err); ok {
			return nil, nil, badData("invalid parameter \"query\": %w", qe.Err)
		}
		return nil, nil, err
	}
	defer a.Close()
	warnings, infos := a.Warnings.AsStrings(expr, 10, 10)
	// encoded here: the value is valid until Close
	data, err := json.Marshal(promstore.APIQueryData{ResultType: a.Value.Type(), Result: a.Value})
	if err != nil {
		return nil, nil, err
	}
	return json.RawMessage(data), append(warnings, infos...), nil
}

// querier opens a querier over the request's start and end (default: the whole
// world) and parses its match[] selectors.
func (w *World) querier(r *http.Request) (storage.Querier, [][]*labels.Matcher, error) {
	start, err := timeParam(r, "start", w.Start)
	if err != nil {
		return nil, nil, err
	}
	end, err := timeParam(r, "end", w.End)
	if err != nil {
		return nil, nil, err
	}
	var sets [][]*labels.Matcher
	for _, m := range r.Form["match[]"] {
		ms, err := parser.ParseMetricSelector(m)
		if err != nil {
			return nil, nil, badData("invalid parameter \"match[]\": %w", err)
		}
		if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches("") }) {
			return nil, nil, badData("match[] must contain at least one non-empty matcher")
		}
		sets = append(sets, ms)
	}
	q, err := w.Storage.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, nil, err
	}
	return q, sets, nil
}

func (w *World) series(r *http.Request) (any, []string, error) {
	q, sets, err := w.querier(r)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	if len(sets) == 0 {
		return nil, nil, badData("no match[] parameter provided")
	}
	out := []labels.Labels{}
	seen := map[string]bool{}
	for _, ms := range sets {
		ss := q.Select(r.Context(), false, nil, ms...)
		for ss.Next() {
			l := ss.At().Labels()
			if k := l.String(); !seen[k] {
				seen[k] = true
				out = append(out, l)
			}
		}
		if err := ss.Err(); err != nil {
			return nil, nil, err
		}
	}
	return out, nil, nil
}

func (w *World) labelNames(r *http.Request) (any, []string, error) {
	return w.labels(r, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		names, _, err := q.LabelNames(r.Context(), nil, ms...)
		return names, err
	})
}

func (w *World) labelValues(r *http.Request) (any, []string, error) {
	name := r.PathValue("name")
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, nil, badData("invalid label name: %q", name)
	}
	return w.labels(r, func(q storage.Querier, ms []*labels.Matcher) ([]string, error) {
		values, _, err := q.LabelValues(r.Context(), name, nil, ms...)
		return values, err
	})
}

// labels is the sorted union of what list finds for each match[] (all series without).
func (w *World) labels(r *http.Request, list func(storage.Querier, []*labels.Matcher) ([]string, error)) (any, []string, error) {
	q, sets, err := w.querier(r)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	out := []string{}
	for _, ms := range sets {
		got, err := list(q, ms)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, got...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil, nil
}

// timeParam reads a time as the API writes them: Unix seconds, or RFC 3339.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.FormValue(name)
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, badData("invalid time value for '%s': cannot parse %q to a valid timestamp", name, s)
}

// durationParam reads a step as the API writes them: seconds, or a Prometheus
// duration such as 30s or 1m.
func durationParam(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}
