package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

// defaultHookTimeout is Flagger's webhook timeout when the hook's timeout has fewer
// than two characters.
const defaultHookTimeout = "10s"

// WebhookSim is the webhook simulator: it answers the engine's webhook calls from the
// scenario's spec.hooks in virtual time, with Flagger's client semantics
// (flagger-semantics §4.1): success iff the final status is <= 202; 429 and 5xx
// except 501 are retried hook.Retries times; a delay that reaches the hook's timeout
// is a client timeout (also retried); errors carry the texts Flagger's
// go-retryablehttp v0.7.8 client produces. A call takes no virtual time, so every
// retry gets the same answer. It implements engine.WebhookCaller and is safe for
// concurrent use.
type WebhookSim struct {
	endpoints map[string][]HookResponse
	clock     clock.PassiveClock
	start     time.Time

	mu    sync.Mutex
	calls []RecordedCall
}

// RecordedCall is one webhook call the simulator answered.
type RecordedCall struct {
	// At is the clock's time of the call.
	At time.Time
	// Name, Type and URL are the hook's, as given (Type "" is Flagger's rollout).
	Name string
	Type string
	URL  string
	// Payload is what the engine sent.
	Payload hooks.Payload
	// Status is the simulated final HTTP status (0 for a timeout or a transport error).
	Status int
	// Attempts is how many requests the client made (1 + retries for a retried failure).
	Attempts int
	// Error is the error returned to the engine, "" on success.
	Error string
}

// NewHookSim builds a webhook simulator over the scenario's endpoints; virtual time
// is measured from start on clk. A URL not listed, or listed but before its first
// response's from, answers 200.
func NewHookSim(endpoints []HookSim, clk clock.PassiveClock, start time.Time) *WebhookSim {
	s := &WebhookSim{endpoints: map[string][]HookResponse{}, clock: clk, start: start}
	for _, e := range endpoints {
		s.endpoints[e.URL] = append([]HookResponse(nil), e.Responses...)
	}
	return s
}

// Calls returns every call answered so far, in order.
func (s *WebhookSim) Calls() []RecordedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedCall(nil), s.calls...)
}

// Call answers one webhook call (engine.WebhookCaller).
func (s *WebhookSim) Call(ctx context.Context, hook v1beta1.CanaryWebhook, payload hooks.Payload) error {
	now := s.clock.Now()
	rec := RecordedCall{At: now, Name: hook.Name, Type: string(hook.Type), URL: hook.URL, Payload: payload}
	status, attempts, err := s.answer(ctx, hook, now.Sub(s.start))
	rec.Status, rec.Attempts = status, attempts
	if err != nil {
		rec.Error = err.Error()
	}
	s.mu.Lock()
	s.calls = append(s.calls, rec)
	s.mu.Unlock()
	return err
}

// answer computes the final status, the number of attempts and the error Flagger's
// client would return.
func (s *WebhookSim) answer(ctx context.Context, hook v1beta1.CanaryWebhook, at time.Duration) (int, int, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	// Flagger: url.Parse(webhook), then a request to hook.String().
	u, err := url.Parse(hook.URL)
	if err != nil {
		return 0, 0, err
	}
	timeoutText := hook.Timeout
	if len(timeoutText) < 2 {
		timeoutText = defaultHookTimeout
	}
	timeout, err := time.ParseDuration(timeoutText)
	if err != nil {
		return 0, 0, err
	}
	maxAttempts := 1 + max(hook.Retries, 0)
	method := "POST " + redactURL(u)

	if u.Scheme != "http" && u.Scheme != "https" {
		// net/http refuses the request; retryablehttp does not retry that.
		return 0, 1, fmt.Errorf("%s giving up after 1 attempt(s): %w", method,
			&url.Error{Op: "Post", URL: stripPassword(u), Err: fmt.Errorf("unsupported protocol scheme %q", u.Scheme)})
	}

	resp, ok := s.responseAt(hook.URL, u.String(), at)
	if !ok {
		return http.StatusOK, 1, nil
	}
	if timeout <= 0 || resp.Delay.Duration >= timeout {
		// http.Client.Timeout fires before the headers arrive; retryablehttp retries it.
		return 0, maxAttempts, fmt.Errorf("%s giving up after %d attempt(s): %w", method, maxAttempts,
			&url.Error{Op: "Post", URL: stripPassword(u), Err: errClientTimeout})
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusTooManyRequests || (status >= 500 && status != http.StatusNotImplemented) {
		// retryablehttp's DefaultRetryPolicy retries without telling why; when the
		// retries run out the body is dropped.
		return status, maxAttempts, fmt.Errorf("%s giving up after %d attempt(s)", method, maxAttempts)
	}
	if status > http.StatusAccepted {
		body := resp.Body
		if body == "" {
			body = http.StatusText(status)
		}
		return status, 1, errors.New(body)
	}
	return status, 1, nil
}

// errClientTimeout is net/http's error for a client timeout while awaiting headers.
var errClientTimeout = errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")

// responseAt is the response in force at virtual time at: the last one whose from is
// not after it. ok is false when the endpoint is not simulated (or not yet answering).
func (s *WebhookSim) responseAt(raw, normalized string, at time.Duration) (HookResponse, bool) {
	rs, found := s.endpoints[raw]
	if !found {
		rs, found = s.endpoints[normalized]
	}
	var cur HookResponse
	ok := false
	for _, r := range rs {
		if r.From.Duration <= at {
			cur, ok = r, true
		}
	}
	return cur, ok
}

// redactURL is go-retryablehttp's rendering of a URL in its errors.
func redactURL(u *url.URL) string {
	ru := *u
	if _, has := ru.User.Password(); has {
		ru.User = url.UserPassword(ru.User.Username(), "xxxxx")
	}
	return ru.String()
}

// stripPassword is net/http's rendering of a URL in its errors.
func stripPassword(u *url.URL) string {
	if _, has := u.User.Password(); has {
		ru := *u
		ru.User = url.UserPassword(u.User.Username(), "***")
		return ru.String()
	}
	return u.String()
}
