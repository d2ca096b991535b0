package engine_test

import (
	"context"
	"encoding/json"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
)

// Alert routing (docs/flagger-semantics.md#alerts; Flagger's events.go alert and
// alertMetadata, notifier/factory.go).

// alertProvider is an AlertProvider in ns with the given spec.
func alertProvider(name, namespace string, spec v1beta1.AlertProviderSpec) *v1beta1.AlertProvider {
	return &v1beta1.AlertProvider{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Spec: spec}
}

// canaryAlert is an analysis.alerts entry referencing the provider in the canary's namespace.
func canaryAlert(name string, severity v1beta1.AlertSeverity, provider string) v1beta1.CanaryAlert {
	return v1beta1.CanaryAlert{Name: name, Severity: severity, ProviderRef: v1beta1.CrossNamespaceObjectReference{Name: provider}}
}

// recipients are an alert's recipients as "<entry>-><provider>" (with " !" and the
// error when it is not sent).
func recipients(a engine.Alert) []string {
	out := []string{}
	for _, r := range a.Recipients {
		s := r.Alert + "->" + r.Provider
		if r.Error != "" {
			s += " ! " + r.Error
		}
		out = append(out, s)
	}
	return out
}

var _ = Describe("alerts", func() {
	const slackURL = "https://hooks.slack.com/services/T0/B0/x"

	It("reach every entry whose severity admits them, through its provider", func() {
		cd := canaryWithHooks(hook(v1beta1.ConfirmRolloutHook, "gate"))
		cd.Spec.Analysis.Alerts = []v1beta1.CanaryAlert{
			canaryAlert("everything", v1beta1.SeverityInfo, "chat"),
			canaryAlert("warnings", v1beta1.SeverityWarn, "teams"),
			canaryAlert("on-call", v1beta1.SeverityError, "chat"),
			canaryAlert("no-severity", "", "chat"),
		}
		f := newFixture(cd)
		Expect(f.c.Create(f.ctx, alertProvider("chat", ns, v1beta1.AlertProviderSpec{Type: "slack", Address: slackURL, Channel: "releases"}))).To(Succeed())
		Expect(f.c.Create(f.ctx, alertProvider("teams", ns, v1beta1.AlertProviderSpec{Type: "msteams", Address: "https://outlook.office.com/webhook/x"}))).To(Succeed())

		By("info: initialization completed, with the canary's metadata")
		f.initialize()
		init := f.log.records[len(f.log.records)-1]
		Expect(init.Alerts).To(HaveLen(1))
		Expect(init.Alerts[0].Global).To(BeFalse(), "the canary has analysis.alerts")
		Expect(init.Alerts[0].Fields).To(Equal(testCanaryFields))
		Expect(init.Alerts[0].Recipients).To(Equal([]engine.AlertRecipient{
			{Alert: "everything", Severity: "info", Provider: "chat.test", Type: "slack", Channel: "releases"},
		}))

		By("warn: waiting for approval")
		f.setImage(imageV2)
		f.hooks.answer("gate", errRefused, nil)
		rec := f.step()
		Expect(rec.Alerts).To(HaveLen(1))
		Expect(rec.Alerts[0].Message).To(Equal("Canary is waiting for approval."))
		Expect(rec.Alerts[0].Fields).To(BeEmpty(), "sent without metadata")
		Expect(rec.Alerts[0].Recipients).To(Equal([]engine.AlertRecipient{
			{Alert: "everything", Severity: "info", Provider: "chat.test", Type: "slack", Channel: "releases"},
			{Alert: "warnings", Severity: "warn", Provider: "teams.test", Type: "msteams"},
		}), "MS Teams messages name no channel")

		By("error: failed checks threshold reached")
		f.step() // gate open: new revision detected
		f.step() // pre-rollout, 90/10
		f.patchStatus(func(st *v1beta1.CanaryStatus) { st.FailedChecks = 5 })
		rec = f.step()
		Expect(rec.Phase).To(Equal("Failed"))
		Expect(rec.Alerts).To(HaveLen(1))
		Expect(rec.Alerts[0].Message).To(Equal("Failed checks threshold reached 5"))
		Expect(recipients(rec.Alerts[0])).To(Equal([]string{"everything->chat.test", "warnings->teams.test", "on-call->chat.test"}),
			"an entry without severity receives nothing")
	})

	It("go to the global notifier when the canary has no analysis.alerts", func() {
		f := newFixture(newCanary())
		f.initialize()
		a := f.log.records[len(f.log.records)-1].Alerts
		Expect(a).To(HaveLen(1))
		Expect(a[0].Global).To(BeTrue())
		Expect(a[0].Recipients).To(BeEmpty())
	})

	DescribeTable("are not sent where Flagger cannot resolve the provider, with Flagger's error",
		func(ref v1beta1.CrossNamespaceObjectReference, objects []any, want engine.AlertRecipient) {
			cd := newCanary()
			cd.Spec.Analysis.Alerts = []v1beta1.CanaryAlert{{Name: "chat", Severity: v1beta1.SeverityInfo, ProviderRef: ref}}
			f := newFixture(cd)
			for _, o := range objects {
				switch o := o.(type) {
				case *v1beta1.AlertProvider:
					Expect(f.c.Create(f.ctx, o)).To(Succeed())
				case *corev1.Secret:
					Expect(f.c.Create(f.ctx, o)).To(Succeed())
				}
			}
			f.initialize()
			a := f.log.records[len(f.log.records)-1].Alerts
			Expect(a).To(HaveLen(1))
			want.Alert, want.Severity = "chat", "info"
			Expect(a[0].Recipients).To(Equal([]engine.AlertRecipient{want}))
		},
		Entry("a missing provider: the lister's not-found error",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"}, nil,
			engine.AlertRecipient{Provider: "slack.test", Error: `alert provider slack.test error: alertprovider.flagger.app "slack" not found`}),
		Entry("a provider in providerRef.namespace",
			v1beta1.CrossNamespaceObjectReference{Name: "slack", Namespace: "monitoring"},
			[]any{alertProvider("slack", "monitoring", v1beta1.AlertProviderSpec{Type: "slack", Address: slackURL})},
			engine.AlertRecipient{Provider: "slack.monitoring", Type: "slack", Channel: "general"}),
		Entry("providerRef.namespace is not the canary's: the canary's own is not looked at",
			v1beta1.CrossNamespaceObjectReference{Name: "slack", Namespace: "monitoring"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", Address: slackURL})},
			engine.AlertRecipient{Provider: "slack.monitoring", Error: `alert provider slack.monitoring error: alertprovider.flagger.app "slack" not found`}),
		Entry("the address from the secret",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", SecretRef: &corev1.LocalObjectReference{Name: "slack-url"}}),
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-url", Namespace: ns}, Data: map[string][]byte{"address": []byte(slackURL)}}},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Channel: "general"}),
		Entry("a missing secret",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", SecretRef: &corev1.LocalObjectReference{Name: "slack-url"}})},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Error: `alert provider slack.test secretRef error: secrets "slack-url" not found`}),
		Entry("a secret without an address",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", SecretRef: &corev1.LocalObjectReference{Name: "slack-url"}}),
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-url", Namespace: ns}, Data: map[string][]byte{"token": []byte("t")}}},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Error: "alert provider slack.test secret does not contain an address"}),
		Entry("an empty address: Flagger's no-op notifier, nothing logged",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", SecretRef: &corev1.LocalObjectReference{Name: "slack-url"}}),
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "slack-url", Namespace: ns}, Data: map[string][]byte{"address": nil}}},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Error: "empty address: Flagger's notifier posts nothing"}),
		Entry("an address that is not a URL",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", Address: "hooks.slack.com"})},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Error: "alert provider slack.test error: invalid Slack hook URL hooks.slack.com"}),
		Entry("an MS Teams address that is not a URL",
			v1beta1.CrossNamespaceObjectReference{Name: "teams"},
			[]any{alertProvider("teams", ns, v1beta1.AlertProviderSpec{Type: "msteams", Address: "outlook"})},
			engine.AlertRecipient{Provider: "teams.test", Type: "msteams", Error: "alert provider teams.test error: invalid MS Teams webhook URL outlook"}),
		Entry("a proxy that does not parse",
			v1beta1.CrossNamespaceObjectReference{Name: "slack"},
			[]any{alertProvider("slack", ns, v1beta1.AlertProviderSpec{Type: "slack", Address: slackURL, Proxy: ":3128"})},
			engine.AlertRecipient{Provider: "slack.test", Type: "slack", Channel: "general",
				Error: `alert provider slack.test send error: postMessage failed: unable to parse proxy URL ':3128', error: parse ":3128": missing protocol scheme`}),
	)
})

var _ = DescribeTable("alert metadata: how traffic is routed",
	func(edit func(a *v1beta1.CanaryAnalysis), want string) {
		cd := newCanary()
		edit(cd.Spec.Analysis)
		f := newFixture(cd)
		f.initialize()
		fields := f.log.records[len(f.log.records)-1].Alerts[0].Fields
		Expect(fields).To(HaveLen(4))
		Expect(fields[3]).To(Equal(engine.AlertField{Name: "Traffic routing", Value: want}))
	},
	Entry("stepWeight", func(a *v1beta1.CanaryAnalysis) {}, "Weight step: 10 max: 50"),
	Entry("stepWeights, printed as Flagger prints the slice", func(a *v1beta1.CanaryAnalysis) {
		a.StepWeight, a.StepWeights, a.MaxWeight = 0, []int{1, 5, 25}, 0
	}, "Weight steps: 1,5,25 max: 0"),
	Entry("blue/green", func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.Iterations = 0, 5 }, "Blue/Green"),
	Entry("A/B testing", func(a *v1beta1.CanaryAnalysis) {
		a.StepWeight, a.Iterations = 0, 5
		a.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}}}
	}, "A/B Testing"),
)

// fakeSender is an AlertSender that remembers what it was asked to post.
type fakeSender struct {
	sent   []engine.AlertDestination
	msgs   []engine.AlertMessage
	global []engine.AlertMessage
	err    error
}

func (s *fakeSender) Send(_ context.Context, to engine.AlertDestination, msg engine.AlertMessage) error {
	s.sent, s.msgs = append(s.sent, to), append(s.msgs, msg)
	return s.err
}

func (s *fakeSender) SendGlobal(_ context.Context, msg engine.AlertMessage) error {
	s.global = append(s.global, msg)
	return s.err
}

var _ = Describe("an AlertSender", func() {
	const (
		secretURL = "https://hooks.slack.com/services/T0/B0/secret-part"
		token     = "xoxb-secret-token"
	)

	// withProviders is a fixture whose canary alerts a Slack provider whose address and
	// token are in a Secret, and an MS Teams provider with spec.address.
	withProviders := func(sender *fakeSender) *fixture {
		cd := newCanary()
		cd.Spec.Analysis.Alerts = []v1beta1.CanaryAlert{
			canaryAlert("chat", v1beta1.SeverityInfo, "chat"),
			canaryAlert("teams", v1beta1.SeverityInfo, "teams"),
		}
		f := newFixture(cd)
		f.engine.Alerts = sender
		Expect(f.c.Create(f.ctx, alertProvider("chat", ns, v1beta1.AlertProviderSpec{Type: "slack",
			SecretRef: &corev1.LocalObjectReference{Name: "chat-secret"}, Proxy: "http://proxy:3128", Username: "bot"}))).To(Succeed())
		Expect(f.c.Create(f.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "chat-secret", Namespace: ns},
			Data: map[string][]byte{"address": []byte(secretURL), "token": []byte(token)}})).To(Succeed())
		Expect(f.c.Create(f.ctx, alertProvider("teams", ns, v1beta1.AlertProviderSpec{Type: "msteams", Address: "https://outlook.office.com/webhook/teams-secret"}))).To(Succeed())
		return f
	}

	It("receives each resolved provider's address, token and defaults; the record holds none of them", func() {
		sender := &fakeSender{}
		f := withProviders(sender)
		f.initialize()
		rec := f.log.records[len(f.log.records)-1]
		Expect(rec.Alerts).To(HaveLen(1))
		Expect(sender.sent).To(Equal([]engine.AlertDestination{
			{Type: "slack", Address: secretURL, Token: token, Proxy: "http://proxy:3128", Username: "bot", Channel: "general"},
			{Type: "msteams", Address: "https://outlook.office.com/webhook/teams-secret", Username: "flagger", Channel: "general"},
		}))
		Expect(sender.msgs).To(HaveLen(2))
		Expect(sender.msgs[0]).To(Equal(engine.AlertMessage{Name: "podinfo", Namespace: ns,
			Message: "New Deployment detected, initialization completed.", Fields: testCanaryFields, Severity: "info"}))
		Expect(sender.global).To(BeEmpty(), "the canary has analysis.alerts")
		Expect(rec.Alerts[0].Recipients).To(Equal([]engine.AlertRecipient{
			{Alert: "chat", Severity: "info", Provider: "chat.test", Type: "slack", Channel: "general"},
			{Alert: "teams", Severity: "info", Provider: "teams.test", Type: "msteams"},
		}))
		record, err := json.Marshal(f.log.records)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(record)).NotTo(Or(ContainSubstring("secret-part"), ContainSubstring(token), ContainSubstring("teams-secret")))
	})

	It("records a failed post as Flagger logs it", func() {
		sender := &fakeSender{err: errors.New("postMessage failed: sending notification bad response 500: down")}
		f := withProviders(sender)
		f.initialize()
		r := f.log.records[len(f.log.records)-1].Alerts[0].Recipients
		Expect(r).To(HaveLen(2))
		Expect(r[0].Error).To(Equal("alert provider chat.test send error: postMessage failed: sending notification bad response 500: down"))
		Expect(r[1].Error).To(Equal("alert provider teams.test send error: postMessage failed: sending notification bad response 500: down"))
	})

	It("is not asked to post where Flagger posts nothing", func() {
		sender := &fakeSender{}
		cd := newCanary()
		cd.Spec.Analysis.Alerts = []v1beta1.CanaryAlert{canaryAlert("missing", v1beta1.SeverityInfo, "missing"),
			canaryAlert("bad", v1beta1.SeverityInfo, "bad"), canaryAlert("muted", v1beta1.SeverityError, "bad")}
		f := newFixture(cd)
		f.engine.Alerts = sender
		Expect(f.c.Create(f.ctx, alertProvider("bad", ns, v1beta1.AlertProviderSpec{Type: "slack", Address: "not a url"}))).To(Succeed())
		f.initialize()
		Expect(f.log.records[len(f.log.records)-1].Alerts[0].Recipients).To(HaveLen(2))
		Expect(sender.sent).To(BeEmpty())
	})

	It("gets a canary's alerts for the global notifier when it has no analysis.alerts, and its failure is recorded", func() {
		sender := &fakeSender{err: errors.New("postMessage failed: boom")}
		f := newFixture(newCanary())
		f.engine.Alerts = sender
		f.initialize()
		a := f.log.records[len(f.log.records)-1].Alerts
		Expect(a).To(HaveLen(1))
		Expect(a[0].Global).To(BeTrue())
		Expect(a[0].Error).To(Equal("alert can't be sent: postMessage failed: boom"))
		Expect(sender.global).To(Equal([]engine.AlertMessage{{Name: "podinfo", Namespace: ns,
			Message: "New Deployment detected, initialization completed.", Fields: testCanaryFields, Severity: "info"}}))
		Expect(sender.sent).To(BeEmpty())
	})
})

var _ = DescribeTable("CheckNotifier: Flagger's notifier factory checks, in its order",
	func(typ, address, username, channel, want string) {
		err := engine.CheckNotifier(typ, address, username, channel)
		if want == "" {
			Expect(err).NotTo(HaveOccurred())
			return
		}
		Expect(err).To(MatchError(want))
	},
	Entry("slack", "slack", "https://h/x", "u", "c", ""),
	Entry("an unknown type first", "pagerduty", "", "", "", "provider pagerduty not supported"),
	Entry("the address before the username", "discord", "h", "", "", "invalid Discord hook URL h"),
	Entry("the username before the channel", "rocket", "https://h/x", "", "", "empty Rocket username"),
	Entry("the channel", "slack", "https://h/x", "u", "", "empty Slack channel"),
	Entry("MS Teams has neither", "msteams", "https://h/x", "", "", ""),
	Entry("Google Chat's address", "gchat", "h", "", "", "invalid Google Chat webhook URL h"),
)
