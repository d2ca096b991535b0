package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"aviary.dev/aviary/engine"
)

// DefaultTimeout is how long Flagger waits for a notification to be accepted.
const DefaultTimeout = 5 * time.Second

// poster posts alerts to one destination (Flagger's notifier.Interface).
type poster interface {
	Post(ctx context.Context, msg engine.AlertMessage) error
}

// Options configure a Sender.
type Options struct {
	// Global is the operator's notifier for canaries without analysis.alerts.
	Global GlobalConfig
	// ClusterName is Flagger's -cluster-name: when set, every alert's fields start
	// with {Cluster, ClusterName}.
	ClusterName string
	// Timeout bounds each post (DefaultTimeout when not positive).
	Timeout time.Duration
}

// Sender posts alerts as Flagger's notifiers do; it is the engine's AlertSender and
// is safe for concurrent use.
type Sender struct {
	clusterName string
	timeout     time.Duration
	global      poster // nil: Flagger's NopNotifier

	mu sync.Mutex
	// proxied holds one client per proxy address: Flagger builds a transport for
	// every post through a proxy; one per proxy reuses its connections.
	proxied map[string]*http.Client
}

var _ engine.AlertSender = (*Sender)(nil)

// New returns a Sender. Its error is why the global notifier posts nothing, in the
// words Flagger logs after "Notifier " (an invalid address, no Slack channel); the
// Sender is usable either way, as Flagger carries on.
func New(o Options) (*Sender, error) {
	s := &Sender{clusterName: o.ClusterName, timeout: o.Timeout, proxied: map[string]*http.Client{}}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	global, err := s.notifierFor(o.Global.destination())
	if err == nil {
		s.global = global
	}
	return s, err
}

// Send posts msg to a resolved AlertProvider (engine.AlertSender).
func (s *Sender) Send(ctx context.Context, to engine.AlertDestination, msg engine.AlertMessage) error {
	n, err := s.notifierFor(to)
	if err != nil || n == nil {
		return err
	}
	return n.Post(ctx, s.withCluster(msg))
}

// SendGlobal posts msg to the global notifier, if there is one (engine.AlertSender).
func (s *Sender) SendGlobal(ctx context.Context, msg engine.AlertMessage) error {
	if s.global == nil {
		return nil
	}
	return s.global.Post(ctx, s.withCluster(msg))
}

// withCluster puts Flagger's Cluster field first.
func (s *Sender) withCluster(msg engine.AlertMessage) engine.AlertMessage {
	if s.clusterName == "" {
		return msg
	}
	msg.Fields = append([]engine.AlertField{{Name: "Cluster", Value: s.clusterName}}, msg.Fields...)
	return msg
}

// notifierFor builds the notifier of a destination as Flagger's notifier.Factory does:
// nil (posts nothing) for an empty address, else engine.CheckNotifier's checks and the
// notifier of the type. A Discord address gets "/slack" appended unless it ends so
// (Discord's Slack-compatible endpoint); only Slack sends the token.
func (s *Sender) notifierFor(to engine.AlertDestination) (poster, error) {
	if to.Address == "" {
		return nil, nil
	}
	if err := engine.CheckNotifier(to.Type, to.Address, to.Username, to.Channel); err != nil {
		return nil, err
	}
	n := &notifier{s: s, address: to.Address, proxy: to.Proxy}
	switch to.Type {
	case "slack":
		n.token = to.Token
		n.payload = func(m engine.AlertMessage) any { return slackMessage(to.Channel, to.Username, slackGood, m) }
	case "discord":
		if !strings.HasSuffix(to.Address, "/slack") {
			u, _ := url.ParseRequestURI(to.Address) // CheckNotifier parsed it
			u.Path = path.Join(u.Path, "slack")
			n.address = u.String()
		}
		n.payload = func(m engine.AlertMessage) any { return slackMessage(to.Channel, to.Username, slackGood, m) }
	case "rocket":
		n.payload = func(m engine.AlertMessage) any { return slackMessage(to.Channel, to.Username, rocketColor, m) }
	case "msteams":
		n.payload = func(m engine.AlertMessage) any { return teamsMessage(m) }
	case "gchat":
		n.payload = func(m engine.AlertMessage) any { return gchatMessage(m) }
	}
	return n, nil
}

// notifier posts the payload of its type to one address.
type notifier struct {
	s                     *Sender
	address, token, proxy string
	payload               func(engine.AlertMessage) any
}

// Post sends the alert as Flagger's postMessage does, its errors prefixed
// "postMessage failed: " like every notifier's.
func (n *notifier) Post(ctx context.Context, msg engine.AlertMessage) error {
	if err := n.s.post(ctx, n.address, n.token, n.proxy, n.payload(msg)); err != nil {
		return fmt.Errorf("postMessage failed: %w", err)
	}
	return nil
}

// post is Flagger's postMessage: the proxy is parsed first, the payload POSTed as
// JSON with a bearer token when there is one, within the timeout; a status outside
// 2xx is an error with the response body. The address is redacted from errors.
func (s *Sender) post(ctx context.Context, address, token, proxy string, payload any) error {
	client, err := s.client(proxy)
	if err != nil {
		return err
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("marshalling notification payload failed: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("http.NewRequest failed: %w", redact(err))
	}
	req.Header.Set("Content-type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sending notification failed to send: %w", redact(err))
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("sending notification bad response %d: %s", res.StatusCode, body)
	}
	return nil
}

// client is the HTTP client of posts through proxy: Flagger's default client without
// one (http.DefaultTransport, which honours HTTP_PROXY), else a transport with
// Flagger's settings that sends everything to the proxy.
func (s *Sender) client(proxy string) (*http.Client, error) {
	if proxy == "" {
		return http.DefaultClient, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.proxied[proxy]; ok {
		return c, nil
	}
	proxyURL, err := url.Parse(proxy)
	if err != nil {
		return nil, fmt.Errorf("unable to parse proxy URL '%s', error: %w", proxy, err)
	}
	c := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyURL(proxyURL),
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		MaxIdleConnsPerHost:   runtime.GOMAXPROCS(0) + 1,
	}}
	s.proxied[proxy] = c
	return c, nil
}

// redact replaces the address in net/http's errors (a *url.Error names the URL it
// was sending to) by its scheme and host: a webhook's path is its secret. Flagger
// logs the whole address there.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	c := *ue
	c.URL = redactAddress(ue.URL)
	return &c
}

// redactAddress is how this package names a webhook address: its scheme and host, and
// "/<redacted>" for anything after them.
func redactAddress(address string) string {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "<redacted>"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		out += "/<redacted>"
	}
	return out
}
