package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

type request struct {
	Method      string
	Path        string
	ContentType string
	Body        map[string]any
}

// server answers each request with the next of statuses (the last repeats) and
// body, after delay; it records the requests.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
}

func newServer(delay time.Duration, body string, statuses ...int) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var decoded map[string]any
		_ = json.Unmarshal(raw, &decoded)
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, request{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: decoded})
		s.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(statuses[min(n, len(statuses)-1)])
		_, _ = w.Write([]byte(body))
	}))
	DeferCleanup(s.Close)
	return s
}

func (s *server) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// fast is a Caller whose retry waits are short.
var fast = &hooks.Caller{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}

var payload = hooks.Payload{Name: "podinfo", Namespace: "default", Phase: "Progressing", Checksum: "abc"}

var _ = Describe("Caller", func() {
	DescribeTable("Flagger's success rule: final status <= 202",
		func(status int, body string, wantErr string) {
			s := newServer(0, body, status)
			err := fast.Call(context.Background(), v1beta1.CanaryWebhook{Name: "gate", URL: s.URL + "/gate"}, payload)
			if wantErr == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(wantErr))
			}
			Expect(s.calls()).To(Equal(1))
		},
		Entry("200", 200, "ok", ""),
		Entry("201", 201, "", ""),
		Entry("202", 202, "accepted", ""),
		Entry("203 fails with the body", 203, "non-authoritative", "non-authoritative"),
		Entry("403 fails with the body", 403, "gate closed", "gate closed"),
		Entry("501 is not retried and fails with the body", 501, "not implemented", "not implemented"),
	)

	It("fails a 204 (empty body) although it is a 2xx", func() {
		s := newServer(0, "", 204)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL}, payload)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(BeEmpty())
	})

	It("returns retryablehttp's error, not the body, for a 500 without retries", func() {
		s := newServer(0, "internal details", 500)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL + "/x"}, payload)
		Expect(err).To(MatchError("POST " + s.URL + "/x giving up after 1 attempt(s)"))
		Expect(s.calls()).To(Equal(1))
	})

	It("recovers from one 500 with one retry", func() {
		s := newServer(0, "", 500, 200)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Retries: 1}, payload)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.calls()).To(Equal(2))
	})

	It("gives up after retries+1 attempts", func() {
		s := newServer(0, "", 503)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Retries: 2}, payload)
		Expect(err).To(MatchError("POST " + s.URL + " giving up after 3 attempt(s)"))
		Expect(s.calls()).To(Equal(3))
	})

	It("does not retry a 403", func() {
		s := newServer(0, "no", 403, 200)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Retries: 3}, payload)
		Expect(err).To(MatchError("no"))
		Expect(s.calls()).To(Equal(1))
	})

	It("times out each attempt after hook.timeout", func() {
		s := newServer(300*time.Millisecond, "", 200)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Timeout: "50ms"}, payload)
		Expect(err).To(MatchError(ContainSubstring("giving up after 1 attempt(s)")))
		Expect(err).To(MatchError(ContainSubstring("Client.Timeout exceeded")))
	})

	It("defaults a timeout shorter than two characters to 10s", func() {
		s := newServer(0, "", 200)
		Expect(fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Timeout: "5"}, payload)).To(Succeed())
	})

	It("returns an unparsable timeout's error", func() {
		s := newServer(0, "", 200)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL, Timeout: "soon"}, payload)
		Expect(err).To(MatchError(`time: invalid duration "soon"`))
		Expect(s.calls()).To(Equal(0))
	})

	It("POSTs the payload as JSON", func() {
		s := newServer(0, "", 200)
		p := payload
		p.Metadata = map[string]string{"cmd": "hey -z 1m"}
		Expect(fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL + "/run"}, p)).To(Succeed())
		Expect(s.requests).To(Equal([]request{{
			Method: "POST", Path: "/run", ContentType: "application/json",
			Body: map[string]any{"name": "podinfo", "namespace": "default", "phase": "Progressing", "checksum": "abc",
				"metadata": map[string]any{"cmd": "hey -z 1m"}},
		}}))
	})

	It("omits empty metadata", func() {
		s := newServer(0, "", 200)
		Expect(fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: s.URL}, payload)).To(Succeed())
		Expect(s.requests[0].Body).NotTo(HaveKey("metadata"))
		Expect(s.requests[0].Body).To(HaveLen(4))
	})

	It("skips TLS verification only with disableTLS", func() {
		ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
		ts.StartTLS()
		DeferCleanup(ts.Close)
		err := fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: ts.URL}, payload)
		Expect(err).To(MatchError(ContainSubstring("certificate")))
		Expect(fast.Call(context.Background(), v1beta1.CanaryWebhook{URL: ts.URL, DisableTLS: true}, payload)).To(Succeed())
	})

	It("stops waiting between attempts when the context is cancelled", func() {
		s := newServer(0, "", 500)
		slow := &hooks.Caller{RetryWaitMin: time.Hour, RetryWaitMax: time.Hour}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := slow.Call(ctx, v1beta1.CanaryWebhook{URL: s.URL, Retries: 1}, payload)
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(s.calls()).To(Equal(1))
	})
})

var _ = DescribeTable("Attempts: as many as the caller makes",
	func(retries int) {
		s := newServer(0, "", 503)
		hook := v1beta1.CanaryWebhook{URL: s.URL, Retries: retries}
		n := hooks.Attempts(hook)
		Expect(fast.Call(context.Background(), hook, payload)).To(MatchError(fmt.Sprintf("POST %s giving up after %d attempt(s)", s.URL, n)))
		Expect(s.calls()).To(Equal(n))
	},
	Entry("no retries", 0),
	Entry("two retries", 2),
	Entry("-1: as 0", -1),
	Entry("-5: as 0", -5),
)

var _ = DescribeTable("Timeout: Flagger's per-attempt timeout of a webhook",
	func(typ v1beta1.HookType, timeout string, want time.Duration, wantErr string) {
		got, err := hooks.Timeout(v1beta1.CanaryWebhook{Type: typ, Timeout: timeout})
		if wantErr != "" {
			Expect(err).To(MatchError(wantErr))
			return
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(want))
	},
	Entry("none: 10s", v1beta1.ConfirmRolloutHook, "", 10*time.Second, ""),
	Entry("given", v1beta1.RolloutHook, "30s", 30*time.Second, ""),
	Entry("a gate's one character: 10s", v1beta1.PreRolloutHook, "5", 10*time.Second, ""),
	Entry("a rollout hook's one character (type omitted): 10s", v1beta1.HookType(""), "0", 10*time.Second, ""),
	Entry("0s: none", v1beta1.RolloutHook, "0s", time.Duration(0), ""),
	Entry("negative: none (net/http)", v1beta1.RolloutHook, "-1s", -time.Second, ""),
	Entry("an event hook's one character is parsed as is", v1beta1.EventHook, "5", time.Duration(0), `time: missing unit in duration "5"`),
	Entry("an event hook's 0 is none", v1beta1.EventHook, "0", time.Duration(0), ""),
	Entry("an event hook without one: 10s", v1beta1.EventHook, "", 10*time.Second, ""),
	Entry("unparsable", v1beta1.RolloutHook, "soon", time.Duration(0), `time: invalid duration "soon"`),
)
