package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// WebhookScript says what the simulated endpoint answers a call of hook at url (the
// URL as the HTTP client requests it): its replies in order of From, or none when
// the endpoint is not simulated (it then answers 200 at once). Which replies a call
// gets is the script's business (a scenario's spec.hooks selects them by the hook's
// name, URL and metadata); when and how they are given is the simulator's.
type WebhookScript func(hook v1beta1.CanaryWebhook, url string) []WebhookReply

// WebhookReply is what an endpoint answers from From (virtual time since the start of
// the run) on: Status (0 = 200) and Body, after Delay.
type WebhookReply struct {
	From, Delay time.Duration
	Status      int
	Body        string
}

// WebhookSimulator answers the engine's webhook calls from a script in virtual
// time (engine.WebhookCaller). It holds none of Flagger's webhook rules: each call
// is made by hooks.Caller, the engine's HTTP caller, whose transport answers from
// the script instead of the network and whose retries do not wait. So the timeout
// rules, retries, the success rule and every error text are the real client's
// (docs/flagger-semantics.md#http-call); a table test runs both against the same
// cases. The transport sees only the HTTP request, so the hook a call is for is
// handed to it with the call: the script chooses the replies by the hook and the
// URL the request goes to. A call takes no virtual time: every attempt of one call
// gets the same reply, and a reply whose delay reaches the attempt's timeout is
// that timeout. A call the script has no replies for, or made before its first
// reply's From, is answered 200.
// It is safe for concurrent use when the script is.
type WebhookSimulator struct {
	script WebhookScript
	clock  clock.PassiveClock
	start  time.Time
}

// NewWebhookSimulator builds a webhook simulator over a script; virtual time is
// measured from start on clk. A nil script simulates no endpoint.
func NewWebhookSimulator(script WebhookScript, clk clock.PassiveClock, start time.Time) *WebhookSimulator {
	return &WebhookSimulator{script: script, clock: clk, start: start}
}

// Call delivers one webhook call (engine.WebhookCaller).
func (s *WebhookSimulator) Call(ctx context.Context, hook v1beta1.CanaryWebhook, payload hooks.Payload) error {
	at := s.clock.Now().Sub(s.start)
	caller := hooks.Caller{
		Backoff: func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		Transport: func(timeout time.Duration) http.RoundTripper {
			return scriptedTransport{s: s, hook: hook, at: at, timeout: timeout}
		},
	}
	return caller.Call(ctx, hook, payload)
}

// replyAt is the reply to a call of hook at url in force at virtual time at
// (WebhookScript.Reply).
func (s *WebhookSimulator) replyAt(hook v1beta1.CanaryWebhook, url string, at time.Duration) (reply WebhookReply, ok bool) {
	return s.script.Reply(hook, url, at)
}

// Reply is the script's reply to a call of hook at url at time at since the start:
// the last one whose From is not after it. ok is false when the script (nil: no
// endpoint simulated) has none, or none yet; the endpoint then answers 200 at once.
func (s WebhookScript) Reply(hook v1beta1.CanaryWebhook, url string, at time.Duration) (reply WebhookReply, ok bool) {
	if s == nil {
		return reply, false
	}
	for _, r := range s(hook, url) {
		if r.From <= at {
			reply, ok = r, true
		}
	}
	return reply, ok
}

// scriptedTransport answers one call's attempts from the simulator's script.
type scriptedTransport struct {
	s       *WebhookSimulator
	hook    v1beta1.CanaryWebhook
	at      time.Duration
	timeout time.Duration
}

// errClientTimeout is what net/http's client reports when its timeout fires before
// the reply's headers arrive.
var errClientTimeout = errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")

func (t scriptedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if s := req.URL.Scheme; s != "http" && s != "https" || req.URL.Host == "" {
		// net/http's own transport refuses these before any connection: its errors
		// are the real ones, and it never dials.
		return (&http.Transport{}).RoundTrip(req)
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, context.Cause(req.Context()) // as net/http's transport
	}
	reply, ok := t.s.replyAt(t.hook, req.URL.String(), t.at)
	if ok && t.timeout > 0 && reply.Delay >= t.timeout {
		return nil, errClientTimeout
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(strings.NewReader(reply.Body)),
		ContentLength: int64(len(reply.Body)),
		Request:       req,
	}, nil
}
