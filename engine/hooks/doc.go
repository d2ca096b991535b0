// Package hooks owns webhook calls exactly as Flagger 1.44 makes them
// (pkg/controller/webhook.go, docs/flagger-semantics.md#webhooks): the JSON payload and its
// checksum, the per-attempt timeout, retries through hashicorp/go-retryablehttp,
// and the success rule (final status <= 202). It decides nothing else: which hooks
// run when, and what a failure means, is the engine's business.
package hooks
