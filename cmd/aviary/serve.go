package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func newServeCommand(stderr io.Writer) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve SCENARIO",
		Short: "Serve a scenario's world over the Prometheus HTTP API, for Grafana or any Prometheus client",
		Long: `Play a scenario (as "aviary run" does, keeping every sample), then serve its
world's series over the read part of the Prometheus HTTP API until interrupted:
/api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels and
/api/v1/label/<name>/values, by GET or POST, answered in Prometheus' JSON
envelope with its error types (bad_data, execution, ...), evaluated by
Prometheus' own PromQL engine configured as the simulator's checks are. Point
Grafana's Prometheus data source (or Flagger's dashboard) at it.

Times are Unix seconds: the scenario's virtual 0 is ` + scenarioStart + `,
so its spec.until is that many seconds later; a query without a time is
evaluated at the scenario's end. In Grafana, set an absolute time range from
the start to the end the first line on stderr gives.

Unlike "aviary sim serve", which plays scenarios in wall-clock time for a live
controller, this serves a finished run's series at once.

Exit status: 0 when interrupted (SIGINT), 2 on invalid input (a scenario that
does not load, an address it cannot listen on).`,
		Example: `  aviary serve scenarios/podinfo-500-burst.yaml --listen 127.0.0.1:9090
  curl -s 'http://127.0.0.1:9090/api/v1/query?query=sum(istio_requests_total)&time=1767225960'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, w, err := playWorld(cmd.Context(), args[0], stderr)
			if err != nil {
				return invalid(err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return invalid(fmt.Errorf("--listen: %w", err))
			}
			fmt.Fprintf(stderr, "aviary: serving scenario %q on http://%s: from %s (Unix %d, virtual 0) to %s (Unix %d, virtual %s); Ctrl-C stops\n",
				l.Scenario.Metadata.Name, ln.Addr(), w.Start.Format(time.RFC3339), w.Start.Unix(),
				w.End.Format(time.RFC3339), w.End.Unix(), w.End.Sub(w.Start))
			return serveUntilDone(cmd.Context(), ln, w.Handler())
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9090", "address to serve the API on (port 0 picks a free one)")
	return cmd
}

// serveUntilDone serves h on ln until ctx is done, then shuts the server down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
