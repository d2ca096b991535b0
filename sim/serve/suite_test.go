package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/cluster"
)

func TestServe(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/serve")
}

// env is the envtest API server of the package's specs, in Flagger's group.
var env *cluster.Envtest

var _ = BeforeSuite(func() {
	var err error
	env, err = cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{APIGroup: "flagger.app"})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(env.Stop()).To(Succeed()) })
})

// logLines collects the JSON lines of a slog.JSONHandler, safe for concurrent use.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// with returns the lines whose msg is msg, decoded.
func (l *logLines) with(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range bytes.Lines(l.buf.Bytes()) {
		var m map[string]any
		Expect(json.Unmarshal(line, &m)).To(Succeed(), string(line))
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
