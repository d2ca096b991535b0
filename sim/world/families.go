package world

// Names of the metric families the world writes (docs/scenario-format.md, "Metric
// families"); a histogram's series are the name with _bucket, _sum and _count.
const (
	IstioRequests   = "istio_requests_total"
	IstioDuration   = "istio_request_duration_milliseconds"
	HTTPDuration    = "http_request_duration_seconds"
	TraefikRequests = "traefik_service_requests_total"
	TraefikDuration = "traefik_service_request_duration_seconds"
)

// Family is a metric family the world writes for the requests the pods (Istio's, the
// Prometheus client's) or Traefik's services serve.
type Family struct {
	// Name is the family's name; a histogram's series add _bucket, _sum and _count.
	Name string
	// Histogram is true for a latency histogram, false for a request counter.
	Histogram bool
	// CodeLabel is the label that holds the response code.
	CodeLabel string
}

// Families are the metric families the world writes, besides the application's own
// counters and series: what a query can read of the world's requests.
func Families() []Family {
	return []Family{
		{Name: IstioRequests, CodeLabel: "response_code"},
		{Name: IstioDuration, Histogram: true, CodeLabel: "response_code"},
		{Name: HTTPDuration, Histogram: true, CodeLabel: "status"},
		{Name: TraefikRequests, CodeLabel: "code"},
		{Name: TraefikDuration, Histogram: true, CodeLabel: "code"},
	}
}

// FamilyOf is the family a series name belongs to (a histogram's _bucket, _sum and
// _count included), and false for a name the world does not write.
func FamilyOf(name string) (Family, bool) {
	for _, f := range Families() {
		if !f.Histogram && name == f.Name || f.Histogram && (name == f.Name+"_bucket" || name == f.Name+"_sum" || name == f.Name+"_count") {
			return f, true
		}
	}
	return Family{}, false
}
