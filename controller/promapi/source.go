package promapi

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"time"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// DefaultTimeout is how long Flagger's Prometheus provider waits for a query's answer.
const DefaultTimeout = 5 * time.Second

// Source answers the engine's queries from the Prometheus HTTP API at each provider's
// address. It is safe for concurrent use.
type Source struct {
	timeout time.Duration
	// client is Flagger's http.DefaultClient; insecure is the client of
	// insecureSkipVerify providers. Flagger clones the default transport for every
	// such query; one clone serves them all here, so that connections are reused.
	client, insecure *http.Client
}

var _ analysis.CredentialedSource = (*Source)(nil)

// Option configures a Source.
type Option func(*Source)

// WithTimeout sets how long a query may take, from sending the request to reading
// the whole answer (DefaultTimeout, Flagger's, when not set or not positive).
func WithTimeout(d time.Duration) Option {
	return func(s *Source) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithTransport sends the requests of providers without insecureSkipVerify through rt
// instead of http.DefaultTransport (which, like Flagger's, honours HTTP_PROXY and
// NO_PROXY).
func WithTransport(rt http.RoundTripper) Option {
	return func(s *Source) { s.client = &http.Client{Transport: rt} }
}

// New returns a Source.
func New(opts ...Option) *Source {
	insecure := http.DefaultTransport.(*http.Transport).Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the template asks for it
	s := &Source{timeout: DefaultTimeout, client: http.DefaultClient, insecure: &http.Client{Transport: insecure}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Query runs query without credentials (builtin and inline-query metrics).
func (s *Source) Query(ctx context.Context, provider v1beta1.MetricTemplateProvider, query string) (float64, error) {
	return s.QueryWithCredentials(ctx, provider, nil, query)
}

// QueryWithCredentials runs an instant query as Flagger's PrometheusProvider.RunQuery
// does, with the data of the provider's secretRef Secret as credentials. Errors carry
// Flagger's texts: the provider checks of analysis.ValidateProvider, "request failed:
// ..." (no answer, or none within the timeout), "error reading body: ...",
// "error response: Status <code> <text>: <body>" for a status >= 400, and
// analysis.DecodeResponse's for the body (analysis.ErrNoValuesFound for an empty
// result or NaN). Only Prometheus-handled provider types are queried.
func (s *Source) QueryWithCredentials(ctx context.Context, provider v1beta1.MetricTemplateProvider, credentials map[string][]byte, query string) (float64, error) {
	if !analysis.IsPrometheusProvider(provider) {
		return 0, fmt.Errorf("metric provider %q is not supported by aviary (only prometheus)", provider.Type)
	}
	if err := analysis.ValidateProvider(provider, credentials); err != nil {
		return 0, err
	}
	base, err := url.Parse(provider.Address) // ValidateProvider checked that it parses
	if err != nil {
		return 0, err
	}
	target, err := queryURL(base, analysis.CollapseQuery(query))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, fmt.Errorf("http.NewRequest failed: %w", err)
	}
	authorize(req, provider, credentials)

	client := s.client
	if provider.InsecureSkipVerify {
		client = s.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("request failed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("error reading body: %w", err)
	}
	if resp.StatusCode >= 400 {
		return 0, analysis.ResponseStatusError(resp.StatusCode, body)
	}
	return analysis.DecodeResponse(body)
}

// queryURL is where Flagger sends a query: the relative reference
// "./api/v1/query?query=<escaped>" with its path joined to the address's path
// (path.Join: "http://prom/prefix/" and "http://prom/prefix" both give
// /prefix/api/v1/query) and then resolved against the address (whose own query
// string is dropped).
func queryURL(base *url.URL, query string) (string, error) {
	ref, err := url.Parse("./api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return "", fmt.Errorf("url.Parse failed: %w", err)
	}
	ref.Path = path.Join(base.Path, ref.Path)
	return base.ResolveReference(ref).String(), nil
}

// authorize sets the request's headers as Flagger does: the template's headers
// replace the request's, then with a secretRef a bearer token is added when the
// Secret has a non-empty "token", or else basic auth is set when both "username" and
// "password" are non-empty (a Secret with a "token" key is never read for basic
// auth). Flagger adds the token to the template's own header map, so that its
// Authorization values pile up across queries; each request here starts from the
// template's headers.
func authorize(req *http.Request, provider v1beta1.MetricTemplateProvider, credentials map[string][]byte) {
	if provider.Headers != nil {
		req.Header = provider.Headers.Clone()
	}
	if provider.SecretRef == nil {
		return
	}
	if token, ok := credentials["token"]; ok {
		if len(token) > 0 {
			req.Header.Add("Authorization", "Bearer "+string(token))
		}
		return
	}
	if user, pass := credentials["username"], credentials["password"]; len(user) > 0 && len(pass) > 0 {
		req.SetBasicAuth(string(user), string(pass))
	}
}
