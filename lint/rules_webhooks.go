package lint

import (
	"fmt"
	"net/url"
	"strings"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
)

// webhookRules are the rules on a Canary's webhooks and where its notifications go.
var webhookRules = []*Rule{postRolloutAfterRollback, preRolloutRepeats, gateWithoutTimeout, gateAlertsEveryTick, loadtesterBackgroundTask, loadtesterGateEndpoint, eventWebhookToChat}

var postRolloutAfterRollback = &Rule{
	ID: "post-rollout-after-rollback",
	// Info: whether the hook is wrong depends on what its endpoint does with the
	// payload's phase, which lint cannot see; an endpoint that reads it is correct.
	Severity: Info,
	Title:    "a post-rollout webhook also runs after a rollback",
	Help: "Flagger calls post-rollout webhooks after a promotion (payload phase Succeeded) and also after " +
		"a rollback or a failed promotion (phase Failed). An endpoint that assumes success — tags a release, " +
		"promotes an artifact, contracts a database schema, says \"deployed\" — does it for the version that " +
		"was just rolled back. Info, not a warning: the same hook is right when its endpoint reads the " +
		"payload's phase, which lint cannot see.",
	Fix:      "act only when the payload's phase is Succeeded, or move rollback handling to a type: rollback or event webhook (or an alert)",
	Scenario: "scenarios/stateful-canary-as-written.yaml",
}

var preRolloutRepeats = &Rule{
	ID: "pre-rollout-repeats",
	// Info: a repeated acceptance test is harmless, a repeated migration is not, and
	// lint cannot tell them apart.
	Severity: Info,
	Title:    "pre-rollout webhooks run again on every tick a confirm-traffic-increase gate holds the first step",
	Help: "Flagger takes a revision's first step when the canary is at weight 0: \"Starting canary analysis\", " +
		"the pre-rollout webhooks, then the first weight step, before which the confirm-traffic-increase " +
		"gates run. A gate that refuses leaves the weight at 0, so the next tick is a first step again and " +
		"calls every pre-rollout webhook again, once per interval until the gate opens (Flagger #1248). A " +
		"pre-rollout hook that is not idempotent (a migration, a notification) runs many times.",
	Fix:      "make the pre-rollout endpoint idempotent (run once per payload checksum), or gate the revision before it starts with confirm-rollout",
	Scenario: "scenarios/podinfo-traffic-gate-repeats-pre-rollout.yaml",
}

var gateWithoutTimeout = &Rule{
	ID:       "gate-without-timeout",
	Severity: Warning,
	Title:    "a gating webhook without timeout: Flagger gives it 10 s",
	Help: "Flagger calls every gating webhook (confirm-rollout, confirm-promotion, confirm-traffic-increase, " +
		"pre-rollout, rollout, rollback) with a per-attempt timeout of 10 s when none is written (CallWebhook: " +
		"any timeout shorter than two characters). An answer slower than that is a failure: a pre-rollout or " +
		"rollout hook counts one failed check per tick, a confirm gate holds the canary (it is polled again " +
		"every interval), a rollback hook does not signal. A load tester task that runs before answering " +
		"(metadata type bash, helm, helmv3, kubectl, concord) outlasts 10 s easily (warning); any other " +
		"gate is only told its default (info).",
	Fix:      "write timeout: longer than the endpoint's slowest answer (the load tester's blocking tasks: their command's duration)",
	Scenario: "scenarios/podinfo-slow-gate-default-timeout.yaml",
}

var eventWebhookToChat = &Rule{
	ID:       "event-webhook-to-chat",
	Severity: Warning,
	Title:    "a webhook posts Flagger's payload to a chat incoming-webhook URL",
	Help: "Flagger POSTs its webhook payload (name, namespace, phase, checksum, metadata) to the URL as it " +
		"is. Slack, Microsoft Teams, Discord and Google Chat incoming webhooks expect a message of their " +
		"own format and refuse it (Slack: 400 no_text): an event webhook's notifications never arrive " +
		"(Flagger only logs the failure), and a gate pointed there never passes. Chat notifications are " +
		"alerts: an AlertProvider of that type and analysis.alerts.",
	Fix:      "declare an AlertProvider (type slack, msteams, discord, gchat) with the URL in a Secret, and list it in analysis.alerts with a severity",
	Scenario: "scenarios/production-canary-as-written.yaml",
}

var gateAlertsEveryTick = &Rule{
	ID: "gate-alerts-every-tick",
	// Info: noise in a channel, not a wrong rollout.
	Severity: Info,
	Title:    "a confirm-traffic-increase gate alerts on every tick it holds",
	Help: "confirm-rollout and confirm-promotion gates send their warn alert (\"... is waiting for approval.\") " +
		"once, when they first refuse; a confirm-traffic-increase gate changes no phase and sends \"Canary " +
		"traffic increase is waiting for approval.\" on every tick it refuses, once per interval, to every " +
		"alert of severity info or warn (or, without analysis.alerts, to Flagger's global notifier), unless " +
		"the webhook sets muteAlert.",
	Fix:      "muteAlert: true on the confirm-traffic-increase webhook (its Warning event stays), or analysis.alerts of severity error only where the noise is not wanted",
	Scenario: "scenarios/podinfo-traffic-gate-repeats-pre-rollout.yaml",
}

var loadtesterBackgroundTask = &Rule{
	ID:       "loadtester-background-task",
	Severity: Error,
	Title:    "a check run as the load tester's background task: it never fails",
	Help: "Flagger's load tester runs a task of type cmd (its default: metadata with cmd and no type) in the " +
		"background and answers 202 at once, whatever the command will do; Flagger counts any status up to " +
		"202 as success. A test written that way (curl, grep, helm test, a script) never fails its pre-rollout " +
		"or rollout hook and never closes a gate (warning), and a rollback hook so written (202 is a rollback " +
		"hook's success) rolls back every release (error). Load generators (hey, ghz, wrk, ...) are meant to " +
		"run that way.",
	Fix:      "metadata type: bash (the load tester runs the command and answers 500 when it fails), with a timeout longer than it takes",
	Scenario: "scenarios/podinfo-acceptance-test-in-background.yaml",
}

var loadtesterGateEndpoint = &Rule{
	ID:       "loadtester-gate-endpoint",
	Severity: Error,
	Title:    "a gating webhook on a load tester gate endpoint that does not answer its question",
	Help: "Flagger's load tester keeps two gates per canary: /gate/check answers 200 while the confirm gate " +
		"is open (403 otherwise), /rollback/check while a rollback is requested; /gate/open, /gate/close, " +
		"/rollback/open and /rollback/close change them and always answer 202, /gate/halt always 403. " +
		"Flagger counts a status up to 202 as success for every hook type. So a rollback hook on /gate/check " +
		"rolls the canary back when someone opens its promotion gate, a confirm gate on /rollback/check opens " +
		"when a rollback is asked for, a rollback hook on an open or close endpoint rolls back every release " +
		"(error), a confirm gate there confirms nothing, and a gate on /gate/halt never opens (warnings).",
	Fix:      "confirm-rollout, confirm-promotion, confirm-traffic-increase: /gate/check; rollback: /rollback/check",
	Scenario: "scenarios/podinfo-rollback-hook-on-promotion-gate.yaml",
}

// gateEndpoint is what a hook of typ does when called at a load tester endpoint
// ("" when it does what the endpoint is for); error marks a rollback of every release.
func gateEndpoint(path string, typ v1beta1.HookType) (effect string, error bool) {
	confirm := typ == v1beta1.ConfirmRolloutHook || typ == v1beta1.ConfirmPromotionHook || typ == v1beta1.ConfirmTrafficIncreaseHook
	switch path {
	case "/gate/open", "/gate/close", "/rollback/open", "/rollback/close":
		switch {
		case typ == v1beta1.RollbackHook:
			return "it answers 202, a rollback hook's success: Flagger rolls back every release on its first analysis tick", true
		case confirm:
			return "it answers 202 whatever the gate's state, so the gate confirms nothing", false
		}
	case "/gate/halt":
		if typ != v1beta1.RollbackHook && typ != v1beta1.PostRolloutHook && typ != v1beta1.EventHook {
			return "it always answers 403: " + gateFailure[typ] + ", for ever", false
		}
	case "/gate/check":
		if typ == v1beta1.RollbackHook {
			return "it reads the confirm gate, not the rollback one: opening the gate to let the canary on (/gate/open) also rolls it back, " +
				"since Flagger asks the rollback hooks first", false
		}
	case "/rollback/check":
		if confirm {
			return "it reads the rollback gate: the gate opens when someone asks for a rollback (/rollback/open), and not when they approve", false
		}
	}
	return "", false
}

// loadGenerators are commands a load tester's cmd task runs to make traffic, not to
// test: the background is where they belong.
var loadGenerators = map[string]bool{"hey": true, "ghz": true, "wrk": true, "k6": true, "vegeta": true, "ab": true, "fortio": true, "siege": true}

func init() {
	postRolloutAfterRollback.Check = checkPostRollout
	gateWithoutTimeout.Check = checkGateTimeouts
	loadtesterBackgroundTask.Check = checkBackgroundTasks
	loadtesterGateEndpoint.Check = checkGateEndpoints
	preRolloutRepeats.Check = checkPreRolloutRepeats
	gateAlertsEveryTick.Check = checkGateAlerts
	eventWebhookToChat.Check = checkChatWebhooks
}

func webhookPath(i int) string { return fmt.Sprintf("spec.analysis.webhooks[%d]", i) }

func checkPostRollout(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		if w.Type != v1beta1.PostRolloutHook {
			continue
		}
		out = append(out, in.Finding(postRolloutAfterRollback, cd, webhookPath(i)+".type", fmt.Sprintf(
			"Flagger calls post-rollout webhook %q after a promotion (payload phase Succeeded) and after every rollback or failed promotion (phase Failed): "+
				"unless %s reads the phase, what it does for a release it also does for the version just rolled back", w.Name, w.URL)))
	}
	return out
}

// gateFailure is what a failed call of a gating webhook does, per type.
var gateFailure = map[v1beta1.HookType]string{
	v1beta1.ConfirmRolloutHook:         "the revision waits (phase Waiting) and the gate is called again every interval",
	v1beta1.ConfirmPromotionHook:       "the promotion waits (phase WaitingPromotion, the checks running on) and the gate is called again every interval",
	v1beta1.ConfirmTrafficIncreaseHook: "the weight does not increase that tick",
	v1beta1.PreRolloutHook:             "one failed check, and the hook is called again on the next tick",
	v1beta1.RolloutHook:                "one failed check",
	v1beta1.RollbackHook:               "it does not signal a rollback",
}

// blockingTasks are the Flagger load tester's task types that run their command
// before answering (pkg/loadtester/server.go); its default type answers at once.
var blockingTasks = map[string]bool{"bash": true, "helm": true, "helmv3": true, "kubectl": true, "concord": true}

func checkGateTimeouts(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		typ := w.GetType()
		failure, gate := gateFailure[typ]
		if !gate || len(w.Timeout) >= 2 {
			continue // an unparsable or zero timeout is engine.Fallbacks' (the loader warns)
		}
		t, err := hooks.Timeout(w)
		if err != nil {
			continue
		}
		each := engine.FormatDuration(t)
		if n := hooks.Attempts(w); n > 1 {
			each += fmt.Sprintf(" per attempt, %d attempts", n)
		}
		written := "no timeout"
		if w.Timeout != "" {
			written = fmt.Sprintf("timeout %q (shorter than two characters)", w.Timeout)
		}
		msg := fmt.Sprintf("%s webhook %q has %s: Flagger calls it with a timeout of %s, and an answer slower than that fails: %s",
			typ, w.Name, written, each, failure)
		f := in.Finding(gateWithoutTimeout, cd, webhookPath(i), msg)
		task := ""
		if w.Metadata != nil {
			task = (*w.Metadata)["type"]
		}
		if blockingTasks[task] {
			f.Message += fmt.Sprintf("; the load tester runs a %s task before it answers, so a command longer than %s fails every time", task, engine.FormatDuration(t))
		} else {
			f.Severity = Info
		}
		out = append(out, f)
	}
	return out
}

// chatServices are the incoming-webhook hosts of chat services whose message format
// Flagger's webhook payload is not, with the AlertProvider type that posts to them.
var chatServices = []struct {
	host, path, name, provider, refusal string
}{
	{"hooks.slack.com", "/", "Slack", "slack", "400 no_text"},
	{"discord.com", "/api/webhooks/", "Discord", "discord", "400 Cannot send an empty message"},
	{"discordapp.com", "/api/webhooks/", "Discord", "discord", "400 Cannot send an empty message"},
	{"webhook.office.com", "/", "Microsoft Teams", "msteams", "400"},
	{"outlook.office.com", "/webhook", "Microsoft Teams", "msteams", "400"},
	{"chat.googleapis.com", "/", "Google Chat", "gchat", "400"},
}

func checkChatWebhooks(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil {
			continue
		}
		host := strings.ToLower(u.Hostname())
		for _, c := range chatServices {
			if (host != c.host && !strings.HasSuffix(host, "."+c.host)) || !strings.HasPrefix(u.Path, c.path) {
				continue
			}
			typ := w.GetType()
			effect := "Flagger logs the failure and no notification arrives"
			switch {
			case typ == v1beta1.EventHook:
				effect = "Flagger only logs the failure: none of the canary's events reaches the channel"
			case typ == v1beta1.PostRolloutHook:
				effect = "a Warning event \"Post-rollout hook failed\" and no notification"
			case gateFailure[typ] != "":
				effect = "the gate never passes: " + gateFailure[typ] + ", on every tick"
			}
			out = append(out, in.Finding(eventWebhookToChat, cd, webhookPath(i)+".url", fmt.Sprintf(
				"%s webhook %q posts Flagger's webhook payload (name, namespace, phase, checksum, metadata) to a %s incoming webhook, "+
					"which refuses it (%s): %s", typ, w.Name, c.name, c.refusal, effect)).
				WithFix(fmt.Sprintf("remove the webhook; declare an AlertProvider of type %s whose Secret holds the URL (address), and list it in "+
					"analysis.alerts with severity info (every alert) or error (rollbacks)", c.provider)))
			break
		}
	}
	return out
}

func checkBackgroundTasks(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		typ := w.GetType()
		if _, gate := gateFailure[typ]; !gate || w.Metadata == nil {
			continue
		}
		md := *w.Metadata
		cmd, hasCmd := md["cmd"]
		if task, typed := md["type"]; !hasCmd || typed && task != "cmd" {
			continue
		}
		fields := strings.Fields(cmd)
		if len(fields) > 0 && loadGenerators[fields[0]] {
			continue
		}
		effect := "the check passes whatever the command does"
		switch typ {
		case v1beta1.RollbackHook:
			effect = "for a rollback hook, a rollback request: Flagger rolls back every release on its first analysis tick"
		case v1beta1.ConfirmRolloutHook, v1beta1.ConfirmPromotionHook, v1beta1.ConfirmTrafficIncreaseHook:
			effect = "the gate is open whatever the command does"
		}
		f := in.Finding(loadtesterBackgroundTask, cd, webhookPath(i)+".metadata", fmt.Sprintf(
			"%s webhook %q runs %q as a load tester task of type cmd (no metadata type): the load tester starts it in the background and answers 202 at once, "+
				"which Flagger counts as success: %s", typ, w.Name, cmd, effect))
		if typ != v1beta1.RollbackHook {
			f.Severity = Warning
		}
		out = append(out, f)
	}
	return out
}

func checkGateEndpoints(in *Input) []Finding {
	cd := in.Loaded.Canary
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil {
			continue
		}
		typ := w.GetType()
		path := strings.TrimSuffix(u.Path, "/")
		effect, rollsBack := gateEndpoint(path, typ)
		if effect == "" {
			continue
		}
		f := in.Finding(loadtesterGateEndpoint, cd, webhookPath(i)+".url", fmt.Sprintf(
			"%s webhook %q calls the load tester's %s: %s", typ, w.Name, path, effect))
		if !rollsBack {
			f.Severity = Warning
		}
		out = append(out, f)
	}
	return out
}

// checkPreRolloutRepeats finds pre-rollout webhooks of a canary-strategy analysis
// that a confirm-traffic-increase gate can hold at its first step.
func checkPreRolloutRepeats(in *Input) []Finding {
	cd := in.Loaded.Canary
	if cd.DeploymentStrategy() != v1beta1.DeploymentStrategyCanary || cd.Spec.Provider == "kubernetes" {
		return nil // iterations count the first step: a held gate does not repeat it
	}
	var gates []string
	for _, w := range analysisOf(cd).Webhooks {
		if w.Type == v1beta1.ConfirmTrafficIncreaseHook {
			gates = append(gates, fmt.Sprintf("%q", w.Name))
		}
	}
	if len(gates) == 0 {
		return nil
	}
	var out []Finding
	for i, w := range analysisOf(cd).Webhooks {
		if w.Type != v1beta1.PreRolloutHook {
			continue
		}
		out = append(out, in.Finding(preRolloutRepeats, cd, webhookPath(i)+".type", fmt.Sprintf(
			"while confirm-traffic-increase gate %s holds the canary at weight 0, every tick is a first step again: Flagger calls pre-rollout webhook %q "+
				"once per interval (\"Starting canary analysis\" each time) until the gate opens", strings.Join(gates, ", "), w.Name)))
	}
	return out
}

// checkGateAlerts finds confirm-traffic-increase gates that alert on every refusal,
// naming who gets the alert (engine.AlertAdmits, Flagger's severity filter).
func checkGateAlerts(in *Input) []Finding {
	cd := in.Loaded.Canary
	a := analysisOf(cd)
	to := "Flagger's global notifier (no analysis.alerts)"
	if len(a.Alerts) > 0 {
		var names []string
		for _, al := range a.Alerts {
			if engine.AlertAdmits(al.Severity, v1beta1.SeverityWarn) {
				names = append(names, fmt.Sprintf("%q", al.Name))
			}
		}
		if len(names) == 0 {
			return nil // no alert admits warn
		}
		to = "alert " + strings.Join(names, ", ")
	}
	var out []Finding
	for i, w := range a.Webhooks {
		if w.Type != v1beta1.ConfirmTrafficIncreaseHook || w.MuteAlert {
			continue
		}
		out = append(out, in.Finding(gateAlertsEveryTick, cd, webhookPath(i), fmt.Sprintf(
			"while confirm-traffic-increase gate %q refuses, Flagger sends the warn alert \"Canary traffic increase is waiting for approval.\" "+
				"to %s on every tick, once per %s", w.Name, to, engine.FormatDuration(cd.GetAnalysisInterval()))))
	}
	return out
}
