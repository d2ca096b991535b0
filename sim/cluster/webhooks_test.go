package cluster_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/cluster"
)

var _ engine.WebhookCaller = (*cluster.WebhookSimulator)(nil)

// webhookCase is one webhook call, made once by the engine's HTTP caller against a
// real server and once by the simulator against the same reply.
type webhookCase struct {
	hook  v1beta1.CanaryWebhook // URL: a path below the server ("/gate"), or any other URL
	reply cluster.WebhookReply
	// userinfo is put into the server URL ("user:secret@"), to see how errors redact it.
	userinfo string
	// cancelled calls with a context that is already done.
	cancelled bool
	// want is the error text, "" for success; attempts the requests the server sees.
	want     string
	attempts int
}

// realCall makes c's call with hooks.Caller against an httptest server that answers
// c.reply after its delay; it returns the error (nil on success) and the number of
// requests the server saw.
func realCall(c webhookCase) (string, error, int) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-time.After(c.reply.Delay):
		case <-r.Context().Done():
			return
		}
		status := c.reply.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(c.reply.Body))
	}))
	defer srv.Close()
	base := srv.URL
	if c.userinfo != "" {
		base = strings.Replace(base, "http://", "http://"+c.userinfo, 1)
	}
	hook := c.hook
	if strings.HasPrefix(hook.URL, "/") {
		hook.URL = base + hook.URL
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c.cancelled {
		cancel()
	}
	caller := &hooks.Caller{RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}
	err := caller.Call(ctx, hook, hooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing"})
	return hook.URL, err, int(requests.Load())
}

// simulatedCall makes the same call through the webhook simulator, whose endpoint at
// url answers c.reply from virtual time zero on.
func simulatedCall(c webhookCase, url string) error {
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	sim := cluster.NewWebhookSimulator(byURL(map[string][]cluster.WebhookReply{url: {c.reply}}),
		clocktesting.NewFakePassiveClock(start.Add(time.Minute)), start)
	hook := c.hook
	hook.URL = url
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c.cancelled {
		cancel()
	}
	return sim.Call(ctx, hook, hooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing"})
}

// byURL is a script that answers by the URL as the client requests it.
func byURL(replies map[string][]cluster.WebhookReply) cluster.WebhookScript {
	return func(_ v1beta1.CanaryWebhook, url string) []cluster.WebhookReply { return replies[url] }
}

// errText is an error's text, or "<nil>": an empty message is an error too.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

var _ = Describe("webhook calls: the simulator and the real HTTP caller", func() {
	const timedOut = `: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
	gate := func(h v1beta1.CanaryWebhook) v1beta1.CanaryWebhook {
		h.Name, h.Type = "gate", v1beta1.ConfirmPromotionHook
		if h.URL == "" {
			h.URL = "/gate/check"
		}
		return h
	}
	event := func(h v1beta1.CanaryWebhook) v1beta1.CanaryWebhook {
		h.Name, h.Type, h.URL = "events", v1beta1.EventHook, "/events"
		return h
	}

	DescribeTable("give the same result and the same message (Flagger's rules)",
		func(c webhookCase) {
			url, realErr, requests := realCall(c)
			want := strings.ReplaceAll(c.want, "URL", url)
			if c.want == "<nil>" {
				Expect(realErr).NotTo(HaveOccurred())
			} else {
				Expect(realErr).To(HaveOccurred())
				Expect(realErr.Error()).To(Equal(want))
			}
			Expect(requests).To(Equal(c.attempts), "requests the server saw")
			simErr := simulatedCall(c, url)
			Expect(errText(simErr)).To(Equal(errText(realErr)), "the simulator's result")
		},
		Entry("200 is a success", webhookCase{hook: gate(v1beta1.CanaryWebhook{}), want: "<nil>", attempts: 1}),
		Entry("202 is a success", webhookCase{hook: gate(v1beta1.CanaryWebhook{}), reply: cluster.WebhookReply{Status: 202}, want: "<nil>", attempts: 1}),
		Entry("203 fails with its body", webhookCase{hook: gate(v1beta1.CanaryWebhook{}),
			reply: cluster.WebhookReply{Status: 203, Body: "not quite"}, want: "not quite", attempts: 1}),
		Entry("204 fails with an empty message: it has no body", webhookCase{hook: gate(v1beta1.CanaryWebhook{}),
			reply: cluster.WebhookReply{Status: 204}, want: "", attempts: 1}),
		Entry("403 fails with its body", webhookCase{hook: gate(v1beta1.CanaryWebhook{Retries: 3}),
			reply: cluster.WebhookReply{Status: 403, Body: "gate closed"}, want: "gate closed", attempts: 1}),
		Entry("403 without a body fails with an empty message", webhookCase{hook: gate(v1beta1.CanaryWebhook{}),
			reply: cluster.WebhookReply{Status: 403}, want: "", attempts: 1}),
		Entry("501 is not retried and fails with its body", webhookCase{hook: gate(v1beta1.CanaryWebhook{Retries: 2}),
			reply: cluster.WebhookReply{Status: 501, Body: "not implemented"}, want: "not implemented", attempts: 1}),
		Entry("500 gives up without its body", webhookCase{hook: gate(v1beta1.CanaryWebhook{}),
			reply: cluster.WebhookReply{Status: 500, Body: "lost"}, want: "POST URL giving up after 1 attempt(s)", attempts: 1}),
		Entry("503 is retried", webhookCase{hook: gate(v1beta1.CanaryWebhook{Retries: 2}),
			reply: cluster.WebhookReply{Status: 503}, want: "POST URL giving up after 3 attempt(s)", attempts: 3}),
		Entry("429 is retried", webhookCase{hook: gate(v1beta1.CanaryWebhook{Retries: 1}),
			reply: cluster.WebhookReply{Status: 429}, want: "POST URL giving up after 2 attempt(s)", attempts: 2}),
		Entry("a reply slower than the timeout times out, and is retried", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "50ms", Retries: 1}),
			reply: cluster.WebhookReply{Delay: 400 * time.Millisecond}, want: `POST URL giving up after 2 attempt(s): Post "URL"` + timedOut, attempts: 2}),
		Entry("a reply within the timeout answers", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "2s"}),
			reply: cluster.WebhookReply{Delay: 50 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("a timeout of 0s is no timeout", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "0s"}),
			reply: cluster.WebhookReply{Delay: 150 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("a negative timeout is no timeout", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "-1s"}),
			reply: cluster.WebhookReply{Delay: 150 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("no timeout is 10s", webhookCase{hook: gate(v1beta1.CanaryWebhook{}),
			reply: cluster.WebhookReply{Delay: 150 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("a gate's timeout shorter than two characters is 10s", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "5"}),
			want: "<nil>", attempts: 1}),
		Entry("a gate's timeout of 0 (one character) is 10s, not none", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "0"}),
			reply: cluster.WebhookReply{Delay: 50 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("an event webhook's one-character timeout does not parse: it is not sent", webhookCase{hook: event(v1beta1.CanaryWebhook{Timeout: "5"}),
			want: `time: missing unit in duration "5"`, attempts: 0}),
		Entry("an event webhook's timeout of 0 is no timeout", webhookCase{hook: event(v1beta1.CanaryWebhook{Timeout: "0"}),
			reply: cluster.WebhookReply{Delay: 150 * time.Millisecond}, want: "<nil>", attempts: 1}),
		Entry("an event webhook without a timeout gets 10s", webhookCase{hook: event(v1beta1.CanaryWebhook{}), want: "<nil>", attempts: 1}),
		Entry("a timeout that does not parse is its error", webhookCase{hook: gate(v1beta1.CanaryWebhook{Timeout: "soon"}),
			want: `time: invalid duration "soon"`, attempts: 0}),
		Entry("an unsupported scheme is net/http's refusal, not retried", webhookCase{hook: gate(v1beta1.CanaryWebhook{URL: "ftp://loadtester/gate", Retries: 2}),
			want: `POST ftp://loadtester/gate giving up after 1 attempt(s): Post "ftp://loadtester/gate": unsupported protocol scheme "ftp"`, attempts: 0}),
		Entry("a URL without a scheme is refused alike", webhookCase{hook: gate(v1beta1.CanaryWebhook{URL: "loadtester/gate"}),
			want: `POST loadtester/gate giving up after 1 attempt(s): Post "loadtester/gate": unsupported protocol scheme ""`, attempts: 0}),
		Entry("a call whose context is done fails with the context's error", webhookCase{hook: gate(v1beta1.CanaryWebhook{}), cancelled: true,
			want: `POST URL giving up after 1 attempt(s): context canceled`, attempts: 0}),
	)

	It("redact a password in the URL alike", func() {
		url, err, _ := realCall(webhookCase{hook: gate(v1beta1.CanaryWebhook{}), userinfo: "flagger:s3cret@", reply: cluster.WebhookReply{Status: 500}})
		Expect(err).To(MatchError(MatchRegexp(`^POST http://flagger:xxxxx@127\.0\.0\.1:\d+/gate/check giving up after 1 attempt\(s\)$`)))
		Expect(simulatedCall(webhookCase{hook: gate(v1beta1.CanaryWebhook{}), reply: cluster.WebhookReply{Status: 500}}, url)).To(MatchError(err.Error()))
	})
})

var _ = Describe("WebhookSimulator", func() {
	const gateURL = "http://flagger-loadtester.test/gate/check"
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	script := byURL(map[string][]cluster.WebhookReply{gateURL: {
		{From: 2 * time.Minute, Status: 403, Body: "closed"}, {From: 6 * time.Minute, Status: 200},
	}})
	call := func(s cluster.WebhookScript, hook v1beta1.CanaryWebhook, at time.Duration) error {
		sim := cluster.NewWebhookSimulator(s, clocktesting.NewFakePassiveClock(start.Add(at)), start)
		return sim.Call(context.Background(), hook, hooks.Payload{Name: "podinfo"})
	}
	gate := func(url string) v1beta1.CanaryWebhook { return v1beta1.CanaryWebhook{Name: "gate", URL: url} }

	DescribeTable("answers from the reply in force at the call's virtual time",
		func(url string, at time.Duration, want string) {
			Expect(errText(call(script, gate(url), at))).To(Equal(want))
		},
		Entry("a URL the script has no replies for answers 200", "http://other.test/hook", 3*time.Minute, "<nil>"),
		Entry("before the first reply the endpoint answers 200", gateURL, time.Minute, "<nil>"),
		Entry("a reply is in force from its From on", gateURL, 2*time.Minute, "closed"),
		Entry("the last reply whose From has passed is in force", gateURL, 5*time.Minute, "closed"),
		Entry("a later reply replaces it", gateURL, 6*time.Minute, "<nil>"),
		Entry("the URL is the one the client requests", "HTTP://flagger-loadtester.test/gate/check", 3*time.Minute, "closed"),
	)

	It("asks the script with the hook the call is for, as written in the Canary", func() {
		// One load tester URL serves two hooks; the script tells them apart.
		const loadTester = "http://flagger-loadtester.test/"
		type asked struct {
			name, url string
			metadata  map[string]string
		}
		var seen []asked
		byHook := func(hook v1beta1.CanaryWebhook, url string) []cluster.WebhookReply {
			a := asked{name: hook.Name, url: url}
			if hook.Metadata != nil {
				a.metadata = *hook.Metadata
			}
			seen = append(seen, a)
			if hook.Name == "acceptance-test" {
				return []cluster.WebhookReply{{Status: 400, Body: "command failed"}}
			}
			return nil
		}
		acceptance := v1beta1.CanaryWebhook{Name: "acceptance-test", Type: v1beta1.PreRolloutHook, URL: loadTester,
			Metadata: &map[string]string{"type": "bash"}}
		load := v1beta1.CanaryWebhook{Name: "load-test", URL: "HTTP://flagger-loadtester.test/", Retries: 2}
		Expect(errText(call(byHook, acceptance, time.Minute))).To(Equal("command failed"))
		Expect(errText(call(byHook, load, time.Minute))).To(Equal("<nil>"))
		Expect(seen).To(Equal([]asked{
			{name: "acceptance-test", url: loadTester, metadata: map[string]string{"type": "bash"}},
			{name: "load-test", url: loadTester},
		}), "one question per attempt: the load test succeeded at once")
	})

	It("asks again on every attempt of a retried call, at the same virtual time", func() {
		asked := 0
		failing := func(v1beta1.CanaryWebhook, string) []cluster.WebhookReply {
			asked++
			return []cluster.WebhookReply{{Status: 503}}
		}
		h := v1beta1.CanaryWebhook{Name: "gate", URL: gateURL, Retries: 2}
		Expect(errText(call(failing, h, time.Minute))).To(Equal("POST " + gateURL + " giving up after 3 attempt(s)"))
		Expect(asked).To(Equal(3))
	})

	It("without a script answers every call 200", func() {
		Expect(call(nil, gate(gateURL), 3*time.Minute)).To(Succeed())
	})
})
