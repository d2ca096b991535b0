package lint_test

import (
	. "github.com/onsi/ginkgo/v2"

	"aviary.dev/aviary/lint"
)

// withHooks is an analysis whose webhooks (written from line 20) are hooks.
func withHooks(hooks string) string {
	return "    interval: 1m\n    threshold: 2\n    stepWeight: 50\n" + builtins + "    webhooks:\n" + hooks
}

var _ = DescribeTable("post-rollout-after-rollback",
	func(hooks string, want ...finding) {
		expectFindings(policyFindings("post-rollout-after-rollback", withHooks(hooks)), "post-rollout-after-rollback", want...)
	},
	Entry("a post-rollout hook", "      - name: tag-release\n        type: post-rollout\n        url: http://ci.test/tag\n        timeout: 1m\n",
		finding{lint.Info, 21, "spec.analysis.webhooks[0].type", []string{
			`Flagger calls post-rollout webhook "tag-release" after a promotion (payload phase Succeeded) and after every rollback or failed promotion (phase Failed)`,
			"unless http://ci.test/tag reads the phase"}}),
	Entry("not: pre-rollout, rollout and rollback hooks",
		"      - {name: a, type: pre-rollout, url: http://a.test/, timeout: 30s}\n      - {name: b, url: http://b.test/, timeout: 5s}\n      - {name: c, type: rollback, url: http://c.test/, timeout: 5s}\n"),
)

var _ = DescribeTable("gate-without-timeout",
	func(hooks string, want ...finding) {
		expectFindings(policyFindings("gate-without-timeout", withHooks(hooks)), "gate-without-timeout", want...)
	},
	Entry("a confirm-promotion gate: its default (info)", "      - name: release-manager\n        type: confirm-promotion\n        url: http://flagger-loadtester.test/gate/check\n",
		finding{lint.Info, 20, "spec.analysis.webhooks[0]", []string{
			`confirm-promotion webhook "release-manager" has no timeout: Flagger calls it with a timeout of 10s`,
			"the promotion waits (phase WaitingPromotion"}}),
	Entry("a pre-rollout bash task of the load tester (warning)",
		"      - name: acceptance-test\n        type: pre-rollout\n        url: http://flagger-loadtester.test/\n        metadata: {type: bash, cmd: \"helm test podinfo\"}\n",
		finding{lint.Warning, 20, "spec.analysis.webhooks[0]", []string{
			"one failed check, and the hook is called again on the next tick",
			"the load tester runs a bash task before it answers, so a command longer than 10s fails every time"}}),
	Entry("a rollout hook without type, timeout \"5\", two retries",
		"      - name: load-test\n        url: http://flagger-loadtester.test/\n        timeout: \"5\"\n        retries: 2\n        metadata: {cmd: \"hey -z 1m http://podinfo-canary.test:9898/\"}\n",
		finding{lint.Info, 20, "spec.analysis.webhooks[0]", []string{
			`rollout webhook "load-test" has timeout "5" (shorter than two characters): Flagger calls it with a timeout of 10s per attempt, 3 attempts`,
			": one failed check"}}),
	Entry("a rollback hook", "      - {name: rollback, type: rollback, url: http://flagger-loadtester.test/rollback/check}\n",
		finding{lint.Info, 20, "spec.analysis.webhooks[0]", []string{"it does not signal a rollback"}}),
	Entry("not: gates with a timeout",
		"      - {name: a, type: pre-rollout, url: http://a.test/, timeout: 30s, metadata: {type: bash, cmd: x}}\n      - {name: b, type: confirm-rollout, url: http://b.test/, timeout: 5s}\n"),
	Entry("not: post-rollout and event hooks, which gate nothing",
		"      - {name: a, type: post-rollout, url: http://a.test/}\n      - {name: b, type: event, url: http://b.test/}\n"),
)

var _ = DescribeTable("event-webhook-to-chat",
	func(hooks string, want ...finding) {
		expectFindings(policyFindings("event-webhook-to-chat", withHooks(hooks)), "event-webhook-to-chat", want...)
	},
	Entry("an event webhook to Slack (the production canary article)",
		"      - name: slack-notification\n        type: event\n        url: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\n",
		finding{lint.Warning, 22, "spec.analysis.webhooks[0].url", []string{
			`event webhook "slack-notification" posts Flagger's webhook payload (name, namespace, phase, checksum, metadata) to a Slack incoming webhook`,
			"(400 no_text)", "none of the canary's events reaches the channel"}}),
	Entry("a confirm-rollout gate to Microsoft Teams",
		"      - name: ask\n        type: confirm-rollout\n        url: https://contoso.webhook.office.com/webhookb2/abc\n        timeout: 5s\n",
		finding{lint.Warning, 22, "spec.analysis.webhooks[0].url", []string{"Microsoft Teams", "the gate never passes: the revision waits (phase Waiting)"}}),
	Entry("a post-rollout hook to Discord",
		"      - name: done\n        type: post-rollout\n        url: https://discord.com/api/webhooks/1/abc\n        timeout: 5s\n",
		finding{lint.Warning, 22, "spec.analysis.webhooks[0].url", []string{"Discord", "Post-rollout hook failed"}}),
	Entry("not: an event webhook to a service of one's own", "      - {name: events, type: event, url: http://event-recorder.test/}\n"),
	Entry("not: a host that only looks like Slack's", "      - {name: events, type: event, url: https://hooks.slack.com.example.org/services/x}\n"),
)

var _ = DescribeTable("loadtester-background-task",
	func(hooks string, want ...finding) {
		expectFindings(policyFindings("loadtester-background-task", withHooks(hooks)), "loadtester-background-task", want...)
	},
	Entry("an acceptance test without type: bash",
		"      - name: acceptance-test\n        type: pre-rollout\n        url: http://flagger-loadtester.test/\n        timeout: 30s\n        metadata:\n          cmd: \"curl -sd 'test' http://podinfo-canary.test:9898/token | grep token\"\n",
		finding{lint.Warning, 24, "spec.analysis.webhooks[0].metadata", []string{
			`pre-rollout webhook "acceptance-test" runs "curl -sd 'test' http://podinfo-canary.test:9898/token | grep token" as a load tester task of type cmd`,
			"answers 202 at once", "the check passes whatever the command does"}}),
	Entry("type cmd written out, a confirm-promotion gate",
		"      - name: smoke\n        type: confirm-promotion\n        url: http://flagger-loadtester.test/\n        metadata: {type: cmd, cmd: ./smoke.sh}\n",
		finding{lint.Warning, 23, "spec.analysis.webhooks[0].metadata", []string{"the gate is open whatever the command does"}}),
	Entry("a rollback hook: 202 rolls back",
		"      - name: rollback-on-alarm\n        type: rollback\n        url: http://flagger-loadtester.test/\n        metadata: {cmd: \"curl -sf http://alarms.test/firing\"}\n",
		finding{lint.Error, 23, "spec.analysis.webhooks[0].metadata", []string{"Flagger rolls back every release on its first analysis tick"}}),
	Entry("not: the tutorial's load test (hey in the background)",
		"      - name: load-test\n        url: http://flagger-loadtester.test/\n        timeout: 5s\n        metadata: {cmd: \"hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/\"}\n"),
	Entry("not: the tutorial's acceptance test (type bash)",
		"      - name: acceptance-test\n        type: pre-rollout\n        url: http://flagger-loadtester.test/\n        timeout: 30s\n        metadata: {type: bash, cmd: \"curl -sd 'test' http://podinfo-canary.test:9898/token | grep token\"}\n"),
	Entry("not: a post-rollout or event hook, which gate nothing",
		"      - {name: notify, type: post-rollout, url: http://flagger-loadtester.test/, timeout: 5s, metadata: {cmd: ./notify.sh}}\n"),
)

var _ = DescribeTable("loadtester-gate-endpoint",
	func(hooks string, want ...finding) {
		expectFindings(policyFindings("loadtester-gate-endpoint", withHooks(hooks)), "loadtester-gate-endpoint", want...)
	},
	Entry("a rollback hook on the confirm gate",
		"      - name: manual-rollback\n        type: rollback\n        url: http://flagger-loadtester.test/gate/check\n",
		finding{lint.Warning, 22, "spec.analysis.webhooks[0].url", []string{
			`rollback webhook "manual-rollback" calls the load tester's /gate/check: it reads the confirm gate`, "also rolls it back"}}),
	Entry("a confirm-promotion gate on the rollback gate",
		"      - {name: approve, type: confirm-promotion, url: http://flagger-loadtester.test/rollback/check/}\n",
		finding{lint.Warning, 20, "spec.analysis.webhooks[0].url", []string{"/rollback/check: it reads the rollback gate"}}),
	Entry("a rollback hook on /rollback/open: every release rolled back",
		"      - {name: manual-rollback, type: rollback, url: http://flagger-loadtester.test/rollback/open}\n",
		finding{lint.Error, 20, "spec.analysis.webhooks[0].url", []string{"rolls back every release"}}),
	Entry("a confirm-rollout gate on /gate/open",
		"      - {name: approve, type: confirm-rollout, url: http://flagger-loadtester.test/gate/open}\n",
		finding{lint.Warning, 20, "spec.analysis.webhooks[0].url", []string{"the gate confirms nothing"}}),
	Entry("a pre-rollout hook on /gate/halt",
		"      - {name: halt, type: pre-rollout, url: http://flagger-loadtester.test/gate/halt}\n",
		finding{lint.Warning, 20, "spec.analysis.webhooks[0].url", []string{"always answers 403: one failed check"}}),
	Entry("not: the documented wiring (gates on /gate/check, rollback on /rollback/check, the gate closed again before the rollout)",
		"      - {name: approve, type: confirm-rollout, url: http://flagger-loadtester.test/gate/check}\n"+
			"      - {name: close, type: post-rollout, url: http://flagger-loadtester.test/gate/close}\n"+
			"      - {name: close-again, type: pre-rollout, url: http://flagger-loadtester.test/gate/close}\n"+
			"      - {name: manual-rollback, type: rollback, url: http://flagger-loadtester.test/rollback/check}\n"),
)

var _ = DescribeTable("pre-rollout-repeats",
	func(analysis string, want ...finding) {
		expectFindings(policyFindings("pre-rollout-repeats", analysis), "pre-rollout-repeats", want...)
	},
	Entry("a migration and a traffic-increase gate",
		withHooks("      - {name: db-migration, type: pre-rollout, url: http://migrations.test/run, timeout: 30s}\n"+
			"      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n"),
		finding{lint.Info, 20, "spec.analysis.webhooks[0].type", []string{
			`while confirm-traffic-increase gate "release-manager" holds the canary at weight 0`, `Flagger calls pre-rollout webhook "db-migration" once per interval`}}),
	Entry("not: a confirm-promotion gate, which runs at the max weight",
		withHooks("      - {name: db-migration, type: pre-rollout, url: http://migrations.test/run, timeout: 30s}\n"+
			"      - {name: release-manager, type: confirm-promotion, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n")),
	Entry("not: blue/green, whose first step counts an iteration",
		"    interval: 1m\n    threshold: 2\n    iterations: 3\n"+builtins+"    webhooks:\n"+
			"      - {name: db-migration, type: pre-rollout, url: http://migrations.test/run, timeout: 30s}\n"+
			"      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n"),
)

var _ = DescribeTable("gate-alerts-every-tick",
	func(analysis string, want ...finding) {
		expectFindings(policyFindings("gate-alerts-every-tick", analysis), "gate-alerts-every-tick", want...)
	},
	Entry("a traffic-increase gate, no analysis.alerts: the global notifier",
		withHooks("      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n"),
		finding{lint.Info, 20, "spec.analysis.webhooks[0]", []string{
			`while confirm-traffic-increase gate "release-manager" refuses`, "to Flagger's global notifier (no analysis.alerts) on every tick, once per 1m"}}),
	Entry("alerts of severity info and error: the info one",
		"    interval: 30s\n    threshold: 2\n    stepWeight: 50\n"+builtins+
			"    alerts:\n      - {name: releases, severity: info, providerRef: {name: teams}}\n      - {name: on-call, severity: error, providerRef: {name: slack}}\n"+
			"    webhooks:\n      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n",
		finding{lint.Info, 23, "spec.analysis.webhooks[0]", []string{`to alert "releases" on every tick, once per 30s`}}),
	Entry("not: muteAlert",
		withHooks("      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s, muteAlert: true}\n")),
	Entry("not: a confirm-promotion gate, which alerts once",
		withHooks("      - {name: release-manager, type: confirm-promotion, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n")),
	Entry("not: only an error alert",
		"    interval: 30s\n    threshold: 2\n    stepWeight: 50\n"+builtins+
			"    alerts:\n      - {name: on-call, severity: error, providerRef: {name: slack}}\n"+
			"    webhooks:\n      - {name: release-manager, type: confirm-traffic-increase, url: http://flagger-loadtester.test/gate/check, timeout: 5s}\n"),
)
