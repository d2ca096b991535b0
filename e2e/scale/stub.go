package scale

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"
)

// StubPrometheus answers Prometheus' instant-query API (/api/v1/query, GET or POST)
// with one sample of Value for every query, so that every metric check of the
// benchmark's Canaries passes without a Prometheus server and a world behind it: the
// benchmark measures the controller, not PromQL. A constant query `vector(N)` (a
// controller's check that the server is online) is answered N, as Prometheus would.
// Queries counts the answers.
type StubPrometheus struct {
	Value   float64
	Queries atomic.Int64
}

// constantVector is a query of a constant vector, e.g. "vector(1)".
var constantVector = regexp.MustCompile(`^\s*vector\(\s*([-+0-9.eE]+)\s*\)\s*$`)

// ServeHTTP answers /api/v1/query; anything else is 404.
func (s *StubPrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || r.Form.Get("query") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"no query"}`)
		return
	}
	s.Queries.Add(1)
	value := s.Value
	if m := constantVector.FindStringSubmatch(r.Form.Get("query")); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			value = v
		}
	}
	now := float64(time.Now().UnixMilli()) / 1000
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"%s"]}]}}`,
		strconv.FormatFloat(now, 'f', 3, 64), strconv.FormatFloat(value, 'g', -1, 64))
}
