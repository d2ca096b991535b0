package cluster

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// WebhookEndpoint is a simulated webhook endpoint: what a URL answers, from which
// point of virtual time on.
type WebhookEndpoint struct {
	URL     string
	Replies []WebhookReply
}

// WebhookReply is what an endpoint answers from From (virtual time since the start of
// the run) on: Status (0 = 200) and Body, after Delay.
type WebhookReply struct {
	From, Delay time.Duration
	Status      int
	Body        string
}

// WebhookSimulator answers the engine's webhook calls from scripted endpoints in
// virtual time (engine.WebhookCaller). It holds none of Flagger's webhook rules:
// each call is made by hooks.Caller, the engine's HTTP caller, whose transport
// answers from the script instead of the network and whose retries do not wait. So
// the timeout rules, retries, the success rule and every error text are the real
// client's (docs/flagger-semantics.md#http-call); a table test runs both against the
// same cases. A call takes no virtual time: every attempt of one call gets the same
// reply, and a reply whose delay reaches the attempt's timeout is that timeout. A
// URL not listed, or listed but before its first reply's From, answers 200.
// It is safe for concurrent use.
type WebhookSimulator struct {
	// endpoints are the replies by URL as the HTTP client requests it (normalized).
	endpoints map[string][]WebhookReply
	clock     clock.PassiveClock
	start     time.Time
}

// NewWebhookSimulator builds a webhook simulator over endpoints; virtual time is
// measured from start on clk.
func NewWebhookSimulator(endpoints []WebhookEndpoint, clk clock.PassiveClock, start time.Time) *WebhookSimulator {
	s := &WebhookSimulator{endpoints: map[string][]WebhookReply{}, clock: clk, start: start}
	for _, e := range endpoints {
		key := e.URL
		if u, err := url.Parse(e.URL); err == nil {
			key = u.String()
		}
		s.endpoints[key] = append([]WebhookReply(nil), e.Replies...)
	}
	return s
}

// Call delivers one webhook call (engine.WebhookCaller).
func (s *WebhookSimulator) Call(ctx context.Context, hook v1beta1.CanaryWebhook, payload hooks.Payload) error {
	at := s.clock.Now().Sub(s.start)
	caller := hooks.Caller{
		Backoff: func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		Transport: func(timeout time.Duration) http.RoundTripper {
			return scriptedTransport{s: s, at: at, timeout: timeout}
		},
	}
	return caller.Call(ctx, hook, payload)
}

// replyAt is the reply of the endpoint at key in force at virtual time at: the last
// one whose From is not after it. ok is false when the URL is not simulated (or not
// yet answering).
func (s *WebhookSimulator) replyAt(key string, at time.Duration) (reply WebhookReply, ok bool) {
	for _, r := range s.endpoints[key] {
		if r.From <= at {
			reply, ok = r, true
		}
	}
	return reply, ok
}

// scriptedTransport answers one call's attempts from the simulator's script.
type scriptedTransport struct {
	s       *WebhookSimulator
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
	reply, ok := t.s.replyAt(req.URL.String(), t.at)
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
