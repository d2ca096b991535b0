package sim_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim"
)

var _ engine.WebhookCaller = (*sim.WebhookSim)(nil)

const gateURL = "http://flagger-loadtester.test/gate/check"

func hookDelay(d time.Duration) sim.Duration { return sim.Duration{Duration: d} }

var _ = Describe("WebhookSim", func() {
	DescribeTable("answers like Flagger's webhook client",
		func(responses []sim.HookResponse, hook v1beta1.CanaryWebhook, at time.Duration, wantErr string, wantStatus, wantAttempts int) {
			clk := clocktesting.NewFakePassiveClock(sim.Epoch.Add(at))
			hs := sim.NewHookSim([]sim.HookSim{{URL: gateURL, Responses: responses}}, clk, sim.Epoch)
			if hook.URL == "" {
				hook.URL = gateURL
			}
			hook.Name = "gate"
			err := hs.Call(context.Background(), hook, hooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing"})
			if wantErr == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(wantErr))
			}
			calls := hs.Calls()
			Expect(calls).To(HaveLen(1))
			Expect(calls[0].At).To(Equal(sim.Epoch.Add(at)))
			Expect(calls[0].URL).To(Equal(hook.URL))
			Expect(calls[0].Payload.Name).To(Equal("podinfo"))
			Expect(calls[0].Status).To(Equal(wantStatus))
			Expect(calls[0].Attempts).To(Equal(wantAttempts))
			Expect(calls[0].Error).To(Equal(wantErr))
		},
		Entry("an unlisted URL answers 200", nil,
			v1beta1.CanaryWebhook{URL: "http://other.test/"}, time.Minute, "", 200, 1),
		Entry("before the first response the endpoint answers 200",
			[]sim.HookResponse{{From: hookDelay(2 * time.Minute), Status: 403}},
			v1beta1.CanaryWebhook{}, time.Minute, "", 200, 1),
		Entry("the last response whose from has passed is in force",
			[]sim.HookResponse{{From: hookDelay(0), Status: 403}, {From: hookDelay(6 * time.Minute), Status: 200}},
			v1beta1.CanaryWebhook{}, 5*time.Minute, "Forbidden", 403, 1),
		Entry("a response is in force from its from on",
			[]sim.HookResponse{{From: hookDelay(0), Status: 403}, {From: hookDelay(6 * time.Minute), Status: 200}},
			v1beta1.CanaryWebhook{}, 6*time.Minute, "", 200, 1),
		Entry("202 is a success", []sim.HookResponse{{Status: 202}}, v1beta1.CanaryWebhook{}, time.Duration(0), "", 202, 1),
		Entry("203 is a failure, with the body as the error", []sim.HookResponse{{Status: 203, Body: "not quite"}},
			v1beta1.CanaryWebhook{}, time.Duration(0), "not quite", 203, 1),
		Entry("status 0 means 200", []sim.HookResponse{{Delay: hookDelay(time.Second)}}, v1beta1.CanaryWebhook{}, time.Duration(0), "", 200, 1),
		Entry("a 4xx is not retried", []sim.HookResponse{{Status: 404}},
			v1beta1.CanaryWebhook{Retries: 3}, time.Duration(0), "Not Found", 404, 1),
		Entry("501 is not retried", []sim.HookResponse{{Status: 501}},
			v1beta1.CanaryWebhook{Retries: 2}, time.Duration(0), "Not Implemented", 501, 1),
		Entry("a 5xx gives up without the body", []sim.HookResponse{{Status: 500, Body: "lost"}},
			v1beta1.CanaryWebhook{}, time.Duration(0), "POST "+gateURL+" giving up after 1 attempt(s)", 500, 1),
		Entry("a 5xx is retried", []sim.HookResponse{{Status: 503}},
			v1beta1.CanaryWebhook{Retries: 2}, time.Duration(0), "POST "+gateURL+" giving up after 3 attempt(s)", 503, 3),
		Entry("429 is retried", []sim.HookResponse{{Status: 429}},
			v1beta1.CanaryWebhook{Retries: 1}, time.Duration(0), "POST "+gateURL+" giving up after 2 attempt(s)", 429, 2),
		Entry("a delay of the default timeout times out",
			[]sim.HookResponse{{Delay: hookDelay(10 * time.Second)}}, v1beta1.CanaryWebhook{}, time.Duration(0),
			`POST `+gateURL+` giving up after 1 attempt(s): Post "`+gateURL+`": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, 0, 1),
		Entry("a timeout shorter than two characters is the default 10s",
			[]sim.HookResponse{{Delay: hookDelay(9 * time.Second)}}, v1beta1.CanaryWebhook{Timeout: "5"}, time.Duration(0), "", 200, 1),
		Entry("a delay under the hook's timeout answers",
			[]sim.HookResponse{{Delay: hookDelay(15 * time.Second), Status: 200}}, v1beta1.CanaryWebhook{Timeout: "30s"}, time.Duration(0), "", 200, 1),
		Entry("a timeout is retried",
			[]sim.HookResponse{{Delay: hookDelay(15 * time.Second)}}, v1beta1.CanaryWebhook{Timeout: "15s", Retries: 1}, time.Duration(0),
			`POST `+gateURL+` giving up after 2 attempt(s): Post "`+gateURL+`": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, 0, 2),
		Entry("a bad timeout is Flagger's parse error",
			nil, v1beta1.CanaryWebhook{Timeout: "1x"}, time.Duration(0), `time: unknown unit "x" in duration "1x"`, 0, 0),
		Entry("a URL without a scheme fails like net/http",
			nil, v1beta1.CanaryWebhook{URL: "loadtester/gate"}, time.Duration(0),
			`POST loadtester/gate giving up after 1 attempt(s): Post "loadtester/gate": unsupported protocol scheme ""`, 0, 1),
	)

	It("records every call in order, deterministically", func() {
		clk := clocktesting.NewFakePassiveClock(sim.Epoch)
		hs := sim.NewHookSim([]sim.HookSim{{URL: gateURL, Responses: []sim.HookResponse{
			{From: hookDelay(0), Status: 403}, {From: hookDelay(2 * time.Minute), Status: 200},
		}}}, clk, sim.Epoch)
		hook := v1beta1.CanaryWebhook{Name: "gate", Type: v1beta1.ConfirmRolloutHook, URL: gateURL}
		var errs []error
		for i := 0; i < 3; i++ {
			errs = append(errs, hs.Call(context.Background(), hook, hooks.Payload{Name: "podinfo", Phase: "Waiting"}))
			clk.SetTime(clk.Now().Add(time.Minute))
		}
		Expect(errs[0]).To(MatchError("Forbidden"))
		Expect(errs[1]).To(MatchError("Forbidden"))
		Expect(errs[2]).NotTo(HaveOccurred())
		calls := hs.Calls()
		Expect(calls).To(HaveLen(3))
		Expect(calls[2]).To(Equal(sim.RecordedCall{
			At: sim.Epoch.Add(2 * time.Minute), Name: "gate", Type: "confirm-rollout", URL: gateURL,
			Payload: hooks.Payload{Name: "podinfo", Phase: "Waiting"}, Status: 200, Attempts: 1,
		}))
	})

	It("returns the context's error when the context is done", func() {
		hs := sim.NewHookSim(nil, clocktesting.NewFakePassiveClock(sim.Epoch), sim.Epoch)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Expect(hs.Call(ctx, v1beta1.CanaryWebhook{URL: gateURL}, hooks.Payload{})).To(MatchError(context.Canceled))
	})
})
