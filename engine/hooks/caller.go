package hooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"aviary.dev/aviary/api/v1beta1"
)

// DefaultTimeout is the per-attempt timeout of a webhook without one.
const DefaultTimeout = "10s"

// Timeout is the per-attempt timeout Flagger gives a call of hook, or the error it
// returns instead of calling (docs/flagger-semantics.md#http-call). Every webhook
// without a timeout gets DefaultTimeout (callWebhook). Gating and notification
// webhooks also get it for a timeout shorter than two characters (CallWebhook), but
// event webhooks do not (CallEventWebhook): "5" fails to parse and the event webhook
// is not sent. A timeout of 0 or less means none at all (Go's http.Client).
func Timeout(hook v1beta1.CanaryWebhook) (time.Duration, error) {
	timeout := hook.Timeout
	if timeout == "" || len(timeout) < 2 && hook.Type != v1beta1.EventHook {
		timeout = DefaultTimeout
	}
	return time.ParseDuration(timeout)
}

// Attempts is how many times Flagger tries one call of hook at most: retryablehttp's
// RetryMax is hook.retries, and it stops when no retry remains, so a negative count
// is 0 (one attempt). Call does not use it (retryablehttp counts); a test holds the
// two together.
func Attempts(hook v1beta1.CanaryWebhook) int { return max(hook.Retries, 0) + 1 }

// Caller calls webhooks over HTTP, like Flagger's callWebhook: a JSON POST through
// go-retryablehttp with RetryMax = hook.retries, an HTTP client timeout (per
// attempt) of hook.timeout, retryablehttp's default retry policy (connection
// errors, 429, 5xx except 501) and no logging. Backoff waits are real time; the
// zero Caller uses retryablehttp's defaults (1s..30s exponential), which is what
// Flagger does.
type Caller struct {
	// RetryWaitMin and RetryWaitMax bound the wait between attempts (zero =
	// retryablehttp's defaults).
	RetryWaitMin, RetryWaitMax time.Duration
	// Backoff computes the wait between attempts (nil = retryablehttp.DefaultBackoff).
	Backoff retryablehttp.Backoff
	// Transport, when set, carries every attempt instead of the network (and of
	// hook.disableTLS's transport); it is given the attempt's timeout, which
	// net/http also enforces in real time. The webhook simulator answers through it
	// in virtual time, so that every other rule of a call is this code's.
	Transport func(timeout time.Duration) http.RoundTripper
}

// Call POSTs payload to hook.URL. It returns nil iff the final response status is
// <= 202. A final status > 202 returns the response body as the error text (so an
// empty body gives an empty message, as in Flagger); when retryablehttp gives up
// its own error is returned and the body is dropped: "POST <url> giving up after
// N attempt(s)" after retryable statuses (429, 5xx except 501; so a 500 with no
// retries never shows its body), with ": <transport error>" appended after
// connection errors and timeouts. URL, timeout and marshalling errors are
// returned as is.
// ctx cancels the call and the waits between attempts.
func (c *Caller) Call(ctx context.Context, hook v1beta1.CanaryWebhook, payload Payload) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	u, err := url.Parse(hook.URL)
	if err != nil {
		return err
	}
	t, err := Timeout(hook)
	if err != nil {
		return err
	}

	httpClient := c.newClient(hook.Retries, t, hook.DisableTLS)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewBuffer(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")

	r, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = r.Body.Close() }()

	b, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("error reading body: %s", err.Error())
	}
	if r.StatusCode > 202 {
		return errors.New(string(b))
	}
	return nil
}

func (c *Caller) newClient(retries int, timeout time.Duration, disableTLS bool) *retryablehttp.Client {
	httpClient := retryablehttp.NewClient()
	httpClient.RetryMax = retries
	httpClient.Logger = nil
	httpClient.HTTPClient.Timeout = timeout
	if c.RetryWaitMin > 0 {
		httpClient.RetryWaitMin = c.RetryWaitMin
	}
	if c.RetryWaitMax > 0 {
		httpClient.RetryWaitMax = c.RetryWaitMax
	}
	if c.Backoff != nil {
		httpClient.Backoff = c.Backoff
	}
	switch {
	case c.Transport != nil:
		httpClient.HTTPClient.Transport = c.Transport(timeout)
	case disableTLS:
		httpClient.HTTPClient.Transport = &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the hook's disableTLS asks for it
		}
	}
	return httpClient
}
