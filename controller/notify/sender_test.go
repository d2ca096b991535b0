package notify_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/controller/notify"
	"aviary.dev/aviary/engine"
)

// post is one request an endpoint got.
type post struct {
	method, host, uri, contentType, authorization, body string
}

// endpoint is an httptest server that remembers every request and answers with status
// and body (a webhook receiver, or with asProxy, an HTTP proxy in front of one).
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []post
	status int
	answer string
}

func newEndpoint(status int, answer string) *endpoint {
	e := &endpoint{status: status, answer: answer}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.posts = append(e.posts, post{r.Method, r.Host, r.RequestURI, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(body)})
		e.mu.Unlock()
		w.WriteHeader(e.status)
		_, _ = w.Write([]byte(e.answer))
	}))
	DeferCleanup(e.Close)
	return e
}

func (e *endpoint) got() []post {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]post(nil), e.posts...)
}

var ctx = context.Background()

// alert is an alert with metadata, as the engine sends "New revision detected".
var alert = engine.AlertMessage{
	Name: "podinfo", Namespace: "test", Severity: "info",
	Message: "New revision detected, progressing canary analysis.",
	Fields: []engine.AlertField{
		{Name: "Target", Value: "Deployment/podinfo.test"},
		{Name: "Failed checks threshold", Value: "5"},
	},
}

// failure is an error alert without fields, whose text has characters JSON escapes.
var failure = engine.AlertMessage{Name: "podinfo", Namespace: "test", Severity: "error",
	Message: `Canary failed! "podinfo" < 99% & rolled back`}

func newSender(o notify.Options) *notify.Sender {
	s, err := notify.New(o)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// The bodies below are what Flagger 1.44's notifiers marshal for the same alert
// (pkg/notifier: SlackPayload, MSTeamsPayload, GChatPayload), byte for byte:
// encoding/json's field order and its HTML escaping of <, > and &.
var _ = DescribeTable("each provider type posts Flagger's JSON",
	func(typ, path string, msg engine.AlertMessage, wantURI, wantAuth, wantBody string) {
		e := newEndpoint(200, "ok")
		to := engine.AlertDestination{Type: typ, Address: e.URL + path, Token: "secret-token", Username: "flagger", Channel: "general"}
		Expect(newSender(notify.Options{}).Send(ctx, to, msg)).To(Succeed())
		Expect(e.got()).To(Equal([]post{{method: "POST", host: strings.TrimPrefix(e.URL, "http://"), uri: wantURI,
			contentType: "application/json", authorization: wantAuth, body: wantBody}}))
	},
	Entry("slack, with the Secret's token", "slack", "/services/T0/B0/x", alert, "/services/T0/B0/x", "Bearer secret-token",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"good","author_name":"podinfo.test","text":"New revision detected, progressing canary analysis.","mrkdwn_in":["text"],"fields":[{"title":"Target","value":"Deployment/podinfo.test","short":false},{"title":"Failed checks threshold","value":"5","short":false}]}]}`),
	Entry("slack, an error", "slack", "/hook", failure, "/hook", "Bearer secret-token",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"danger","author_name":"podinfo.test","text":"Canary failed! \"podinfo\" \u003c 99% \u0026 rolled back","mrkdwn_in":["text"],"fields":[]}]}`),
	Entry("discord: Slack's payload at <address>/slack, no token", "discord", "/api/webhooks/1/x", alert, "/api/webhooks/1/x/slack", "",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"good","author_name":"podinfo.test","text":"New revision detected, progressing canary analysis.","mrkdwn_in":["text"],"fields":[{"title":"Target","value":"Deployment/podinfo.test","short":false},{"title":"Failed checks threshold","value":"5","short":false}]}]}`),
	Entry("discord, an address that ends in /slack", "discord", "/api/webhooks/1/x/slack", failure, "/api/webhooks/1/x/slack", "",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"danger","author_name":"podinfo.test","text":"Canary failed! \"podinfo\" \u003c 99% \u0026 rolled back","mrkdwn_in":["text"],"fields":[]}]}`),
	Entry("rocket: its own colours", "rocket", "/hooks/x", alert, "/hooks/x", "",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"#0076D7","author_name":"podinfo.test","text":"New revision detected, progressing canary analysis.","mrkdwn_in":["text"],"fields":[{"title":"Target","value":"Deployment/podinfo.test","short":false},{"title":"Failed checks threshold","value":"5","short":false}]}]}`),
	Entry("rocket, an error", "rocket", "/hooks/x", failure, "/hooks/x", "",
		`{"channel":"general","username":"flagger","icon_url":"","icon_emoji":":rocket:","attachments":[{"color":"#FF0000","author_name":"podinfo.test","text":"Canary failed! \"podinfo\" \u003c 99% \u0026 rolled back","mrkdwn_in":["text"],"fields":[]}]}`),
	Entry("msteams: a MessageCard", "msteams", "/webhook/x", alert, "/webhook/x", "",
		`{"@type":"MessageCard","@context":"http://schema.org/extensions","themeColor":"0076D7","summary":"podinfo.test","sections":[{"activityTitle":"New revision detected, progressing canary analysis.","activitySubtitle":"podinfo.test","facts":[{"name":"Target","value":"Deployment/podinfo.test"},{"name":"Failed checks threshold","value":"5"}]}]}`),
	Entry("msteams, an error", "msteams", "/webhook/x", failure, "/webhook/x", "",
		`{"@type":"MessageCard","@context":"http://schema.org/extensions","themeColor":"FF0000","summary":"podinfo.test","sections":[{"activityTitle":"Canary failed! \"podinfo\" \u003c 99% \u0026 rolled back","activitySubtitle":"podinfo.test","facts":[]}]}`),
	Entry("gchat: a card", "gchat", "/v1/spaces/x/messages?key=k", alert, "/v1/spaces/x/messages?key=k", "",
		`{"cards":[{"header":{"title":"Flagger","subtitle":"podinfo.test","imageUrl":"https://flagger.app/favicon.png"},"sections":[{"widgets":[{"textParagraph":{"text":"\u003cfont color=#848484\u003e\u003cstrong\u003eNew revision detected, progressing canary analysis.\u003c/strong\u003e\u003c/font\u003e"}}]},{"widgets":[{"textParagraph":{"text":"Target\u003cbr\u003e\u003cfont color=#848484\u003e\u003cstrong\u003eDeployment/podinfo.test\u003c/strong\u003e\u003c/font\u003e"}}]},{"widgets":[{"textParagraph":{"text":"Failed checks threshold\u003cbr\u003e\u003cfont color=#848484\u003e\u003cstrong\u003e5\u003c/strong\u003e\u003c/font\u003e"}}]}]}]}`),
	Entry("gchat, an error: the severity is not shown", "gchat", "/x", failure, "/x", "",
		`{"cards":[{"header":{"title":"Flagger","subtitle":"podinfo.test","imageUrl":"https://flagger.app/favicon.png"},"sections":[{"widgets":[{"textParagraph":{"text":"\u003cfont color=#848484\u003e\u003cstrong\u003eCanary failed! \"podinfo\" \u003c 99% \u0026 rolled back\u003c/strong\u003e\u003c/font\u003e"}}]}]}]}`),
)

var _ = Describe("posting", func() {
	const secretPath = "/services/T0/B0/very-secret"

	slack := func(address string) engine.AlertDestination {
		return engine.AlertDestination{Type: "slack", Address: address, Token: "xoxb-token", Username: "flagger", Channel: "general"}
	}

	It("fails on a status outside 2xx with the response body, as Flagger", func() {
		e := newEndpoint(500, "no_service")
		err := newSender(notify.Options{}).Send(ctx, slack(e.URL+secretPath), alert)
		Expect(err).To(MatchError("postMessage failed: sending notification bad response 500: no_service"))
		Expect(e.got()).To(HaveLen(1), "Flagger does not retry")
	})

	It("names an unreachable address by its scheme and host only", func() {
		e := newEndpoint(200, "")
		address := e.URL
		e.Close()
		err := newSender(notify.Options{}).Send(ctx, slack(address+secretPath), alert)
		Expect(err).To(MatchError(HavePrefix(`postMessage failed: sending notification failed to send: Post "` + address + `/<redacted>": dial tcp `)))
		Expect(err.Error()).NotTo(Or(ContainSubstring("very-secret"), ContainSubstring("xoxb-token")))
	})

	It("gives up after the timeout", func() {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		DeferCleanup(srv.Close)
		DeferCleanup(func() { close(release) })
		Expect(notify.DefaultTimeout).To(Equal(5 * time.Second))
		err := newSender(notify.Options{Timeout: 20 * time.Millisecond}).Send(ctx, slack(srv.URL+secretPath), alert)
		Expect(err).To(MatchError(`postMessage failed: sending notification failed to send: Post "` + srv.URL + `/<redacted>": context deadline exceeded`))
	})

	It("goes through the provider's proxy", func() {
		proxy := newEndpoint(200, "ok")
		to := slack("http://hooks.example.invalid" + secretPath)
		to.Proxy = proxy.URL
		s := newSender(notify.Options{})
		Expect(s.Send(ctx, to, alert)).To(Succeed())
		Expect(s.Send(ctx, to, alert)).To(Succeed())
		got := proxy.got()
		Expect(got).To(HaveLen(2))
		Expect(got[0].host).To(Equal("hooks.example.invalid"))
		Expect(got[0].uri).To(Equal("http://hooks.example.invalid"+secretPath), "a proxy gets the absolute URL")
		Expect(got[0].authorization).To(Equal("Bearer xoxb-token"))
		Expect(got[0].body).To(ContainSubstring(`"author_name":"podinfo.test"`))
	})

	It("refuses a proxy that does not parse, before sending, with Flagger's error", func() {
		e := newEndpoint(200, "")
		to := slack(e.URL)
		to.Proxy = ":3128"
		err := newSender(notify.Options{}).Send(ctx, to, alert)
		Expect(err).To(MatchError(`postMessage failed: unable to parse proxy URL ':3128', error: parse ":3128": missing protocol scheme`))
		Expect(e.got()).To(BeEmpty())
	})

	It("posts nothing for an empty address, and refuses what Flagger's factory refuses", func() {
		s := newSender(notify.Options{})
		Expect(s.Send(ctx, engine.AlertDestination{Type: "slack", Username: "flagger", Channel: "general"}, alert)).To(Succeed())
		Expect(s.Send(ctx, slack("hooks.slack.com/x"), alert)).To(MatchError("invalid Slack hook URL hooks.slack.com/x"))
		Expect(s.Send(ctx, engine.AlertDestination{Type: "msteams", Address: "outlook"}, alert)).To(MatchError("invalid MS Teams webhook URL outlook"))
	})

	It("puts Flagger's Cluster field first when it has a cluster name", func() {
		e := newEndpoint(200, "")
		to := engine.AlertDestination{Type: "msteams", Address: e.URL}
		Expect(newSender(notify.Options{ClusterName: "prod-eu"}).Send(ctx, to, alert)).To(Succeed())
		Expect(e.got()[0].body).To(ContainSubstring(`"facts":[{"name":"Cluster","value":"prod-eu"},{"name":"Target",`))
		Expect(alert.Fields).To(HaveLen(2), "the engine's fields are not changed")
	})
})

var _ = Describe("the global notifier", func() {
	parse := func(args ...string) notify.GlobalConfig {
		var c notify.GlobalConfig
		fs := flag.NewFlagSet("controller", flag.ContinueOnError)
		c.AddFlags(fs)
		Expect(fs.Parse(args)).To(Succeed())
		return c
	}
	noEnv := func(string) string { return "" }

	It("has Flagger's flags and defaults", func() {
		Expect(parse()).To(Equal(notify.GlobalConfig{SlackUser: "flagger"}))
		Expect(parse("-slack-url", "u", "-slack-token", "t", "-slack-proxy-url", "p", "-slack-user", "bot", "-slack-channel", "c",
			"-msteams-url", "m", "-msteams-proxy-url", "mp")).To(Equal(notify.GlobalConfig{SlackURL: "u", SlackToken: "t",
			SlackProxyURL: "p", SlackUser: "bot", SlackChannel: "c", MSTeamsURL: "m", MSTeamsProxyURL: "mp"}))
	})

	It("takes Flagger's environment variables over the flags", func() {
		env := map[string]string{"SLACK_URL": "env-url", "MSTEAMS_PROXY_URL": "env-proxy", "SLACK_CHANNEL": "ignored"}
		c := parse("-slack-url", "flag-url", "-slack-channel", "c", "-msteams-proxy-url", "flag-proxy").WithEnv(func(k string) string { return env[k] })
		Expect(c).To(Equal(notify.GlobalConfig{SlackURL: "env-url", SlackUser: "flagger", SlackChannel: "c", MSTeamsProxyURL: "env-proxy"}))
	})

	It("posts to Slack with the flags' user and channel", func() {
		e := newEndpoint(200, "")
		s, err := notify.New(notify.Options{Global: parse("-slack-url", e.URL+"/hook", "-slack-channel", "ops", "-slack-token", "t")})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.SendGlobal(ctx, failure)).To(Succeed())
		got := e.got()
		Expect(got).To(HaveLen(1))
		Expect(got[0].authorization).To(Equal("Bearer t"))
		Expect(got[0].body).To(HavePrefix(`{"channel":"ops","username":"flagger",`))
	})

	It("posts to MS Teams when it has an address, whatever Slack's", func() {
		slackHook, teams := newEndpoint(200, ""), newEndpoint(200, "")
		s, err := notify.New(notify.Options{Global: parse("-slack-url", slackHook.URL, "-slack-channel", "ops", "-msteams-url", teams.URL)})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.SendGlobal(ctx, alert)).To(Succeed())
		Expect(slackHook.got()).To(BeEmpty())
		Expect(teams.got()).To(HaveLen(1))
		Expect(teams.got()[0].body).To(HavePrefix(`{"@type":"MessageCard"`))
	})

	DescribeTable("posts nothing when Flagger's would not, with the error Flagger logs after \"Notifier \"",
		func(args []string, want string) {
			e := newEndpoint(200, "")
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "{endpoint}", e.URL)
			}
			s, err := notify.New(notify.Options{Global: parse(args...).WithEnv(noEnv)})
			if want == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(want))
			}
			Expect(s.SendGlobal(ctx, alert)).To(Succeed())
			Expect(e.got()).To(BeEmpty())
		},
		Entry("no flags", []string{}, ""),
		Entry("a Slack proxy without a Slack address", []string{"-slack-proxy-url", "{endpoint}", "-slack-channel", "c"}, ""),
		Entry("a Slack address without a channel (-slack-channel has no default)", []string{"-slack-url", "{endpoint}/x"}, "empty Slack channel"),
		Entry("an empty Slack user", []string{"-slack-url", "{endpoint}/x", "-slack-user", "", "-slack-channel", "c"}, "empty Slack username"),
		Entry("an address that is not a URL", []string{"-msteams-url", "outlook"}, "invalid MS Teams webhook URL outlook"),
	)

	It("says what Flagger logs when it is enabled", func() {
		Expect(parse("-slack-url", "https://hooks.slack.com/services/T0/B0/secret").Enabled()).To(Equal("Notifications enabled for https://hooks.slack.com/servic"))
		Expect(parse("-slack-url", "https://short.example/x").Enabled()).To(BeEmpty(), "Flagger logs nothing for an address of 30 characters or less")
	})
})
