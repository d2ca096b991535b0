package serve

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"
)

// PrometheusConfig is a Prometheus configuration that scrapes the server: one job
// per scenario, named after it, at its spec.world.scrapeInterval (the timeout
// the same: a scrape must end before the next), with honor_labels, since the
// world's series carry the labels a cluster's exporters would (namespace, pod, ...).
func (s *Server) PrometheusConfig() []byte {
	var b bytes.Buffer
	b.WriteString("# Written by aviary sim serve: one job per scenario, at its spec.world.scrapeInterval.\nscrape_configs:\n")
	for _, p := range s.players {
		every := model.Duration(p.l.Scenario.Spec.World.ScrapeInterval.Duration).String()
		fmt.Fprintf(&b, "  - job_name: %s\n    scrape_interval: %s\n    scrape_timeout: %s\n    honor_labels: true\n    metrics_path: %s\n    static_configs:\n      - targets: [%s]\n",
			strconv.Quote(p.name), every, every, strconv.Quote(MetricsPath(p.name)), strconv.Quote(s.Addr()))
	}
	return b.Bytes()
}
