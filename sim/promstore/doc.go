// Package promstore is the in-memory series store under Prometheus' PromQL engine
// (Storage, a storage.Queryable) and the simulator's metric source on top of it
// (Source, the engine's analysis.MetricSource port), which reads query results the
// way Flagger's Prometheus provider reads the HTTP API. It also says how far back a
// query reads (Reach, QueryRetention), so that the store can drop what no query of a
// run can read (Storage.Truncate).
//
// It knows neither scenarios, nor the world that writes its samples, nor
// Kubernetes: series are label sets, samples are floats at millisecond timestamps.
package promstore
