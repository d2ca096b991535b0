package analysis

import (
	"context"
	"fmt"
	"net/url"

	"aviary.dev/aviary/api/v1beta1"
)

// CredentialedSource is a MetricSource that also receives the data of the
// MetricTemplate provider's secretRef Secret (Prometheus: "token" for a bearer
// token, else "username" and "password"). When Checker.Source implements it, the
// Checker calls QueryWithCredentials instead of Query for every query (credentials
// are nil for builtin and inline metrics and for templates without secretRef).
type CredentialedSource interface {
	MetricSource
	QueryWithCredentials(ctx context.Context, provider v1beta1.MetricTemplateProvider, credentials map[string][]byte, query string) (float64, error)
}

// Metric template provider types Flagger implements besides Prometheus. Every other
// type, including an unknown one, is handled as Prometheus (Flagger's
// providers.Factory falls back to Prometheus with a warning).
var nonPrometheusProviders = map[string]bool{
	"datadog":         true,
	"externalmetrics": true,
	"cloudwatch":      true,
	"newrelic":        true,
	"graphite":        true,
	"stackdriver":     true,
	"influxdb":        true,
	"dynatrace":       true,
	"keptn":           true,
	"splunk":          true,
}

// IsPrometheusProvider reports whether Flagger would query the provider with its
// Prometheus client: type "prometheus" or any type it does not know.
func IsPrometheusProvider(p v1beta1.MetricTemplateProvider) bool {
	return !nonPrometheusProviders[p.Type]
}

// ValidateProvider performs the checks Flagger's provider factory does when it
// builds a client, with its error texts. For Prometheus-handled types
// (IsPrometheusProvider): the address must be non-empty and parse as a URL ("<type>
// address <address> is not a valid URL"); with a secretRef the credentials must
// hold "token", or both "username" ("<type> credentials does not contain a
// username") and "password" (" ... a password"). Other provider types are left to
// the MetricSource, which reports what it cannot query as a query error.
func ValidateProvider(p v1beta1.MetricTemplateProvider, credentials map[string][]byte) error {
	if !IsPrometheusProvider(p) {
		return nil
	}
	if err := validateAddress(p.Type, p.Address); err != nil {
		return err
	}
	if p.SecretRef != nil {
		if _, ok := credentials["token"]; ok {
			return nil
		}
		if _, ok := credentials["username"]; !ok {
			return fmt.Errorf("%s credentials does not contain a username", p.Type)
		}
		if _, ok := credentials["password"]; !ok {
			return fmt.Errorf("%s credentials does not contain a password", p.Type)
		}
	}
	return nil
}

func validateAddress(providerType, address string) error {
	if _, err := url.Parse(address); address == "" || err != nil {
		return fmt.Errorf("%s address %s is not a valid URL", providerType, address)
	}
	return nil
}

// prometheusOnlineQuery is the query of Flagger's Prometheus IsOnline.
const prometheusOnlineQuery = "vector(1)"

// isOnline is Flagger's PrometheusProvider.IsOnline through the metric source.
func (c *Checker) isOnline(ctx context.Context, p v1beta1.MetricTemplateProvider, credentials map[string][]byte) error {
	v, err := c.query(ctx, p, credentials, prometheusOnlineQuery)
	if err != nil {
		return fmt.Errorf("running query failed: %w", err)
	}
	if v != 1 {
		return fmt.Errorf("value is not 1 for query: %s", prometheusOnlineQuery)
	}
	return nil
}

func (c *Checker) query(ctx context.Context, p v1beta1.MetricTemplateProvider, credentials map[string][]byte, q string) (float64, error) {
	if cs, ok := c.Source.(CredentialedSource); ok {
		return cs.QueryWithCredentials(ctx, p, credentials, q)
	}
	return c.Source.Query(ctx, p, q)
}
