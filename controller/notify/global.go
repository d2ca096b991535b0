package notify

import (
	"flag"

	"aviary.dev/aviary/engine"
)

// GlobalConfig is Flagger's global notifier settings (cmd/flagger/main.go: the
// -slack-* and -msteams-* flags, initNotifier): Slack unless an MS Teams address is
// set, the Slack user and channel for Slack.
type GlobalConfig struct {
	SlackURL, SlackToken, SlackProxyURL, SlackUser, SlackChannel string
	MSTeamsURL, MSTeamsProxyURL                                  string
}

// AddFlags registers Flagger's flags for c, with its names, defaults and help.
func (c *GlobalConfig) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.SlackURL, "slack-url", "", "Slack hook URL.")
	fs.StringVar(&c.SlackToken, "slack-token", "", "Slack bot token.")
	fs.StringVar(&c.SlackProxyURL, "slack-proxy-url", "", "Slack proxy URL.")
	fs.StringVar(&c.SlackUser, "slack-user", "flagger", "Slack user name.")
	fs.StringVar(&c.SlackChannel, "slack-channel", "", "Slack channel.")
	fs.StringVar(&c.MSTeamsURL, "msteams-url", "", "MS Teams incoming webhook URL.")
	fs.StringVar(&c.MSTeamsProxyURL, "msteams-proxy-url", "", "MS Teams proxy URL.")
}

// WithEnv is c with Flagger's environment variables in place of the flags they
// override when they are set: SLACK_URL, SLACK_TOKEN, SLACK_PROXY_URL, MSTEAMS_URL,
// MSTEAMS_PROXY_URL (getenv is os.Getenv). The user and channel have no variable.
func (c GlobalConfig) WithEnv(getenv func(string) string) GlobalConfig {
	for _, v := range []struct {
		name  string
		field *string
	}{
		{"SLACK_URL", &c.SlackURL}, {"SLACK_TOKEN", &c.SlackToken}, {"SLACK_PROXY_URL", &c.SlackProxyURL},
		{"MSTEAMS_URL", &c.MSTeamsURL}, {"MSTEAMS_PROXY_URL", &c.MSTeamsProxyURL},
	} {
		if value := getenv(v.name); value != "" {
			*v.field = value
		}
	}
	return c
}

// destination is where the global notifier posts: MS Teams when it has an address,
// else Slack (an empty address: nowhere).
func (c GlobalConfig) destination() engine.AlertDestination {
	if c.MSTeamsURL != "" {
		return engine.AlertDestination{Type: "msteams", Address: c.MSTeamsURL, Token: c.SlackToken,
			Proxy: c.MSTeamsProxyURL, Username: c.SlackUser, Channel: c.SlackChannel}
	}
	return engine.AlertDestination{Type: "slack", Address: c.SlackURL, Token: c.SlackToken,
		Proxy: c.SlackProxyURL, Username: c.SlackUser, Channel: c.SlackChannel}
}

// Enabled is the line Flagger logs when the global notifier is built and its address
// is longer than 30 characters: "Notifications enabled for " and the address's first
// 30 characters; "" otherwise.
func (c GlobalConfig) Enabled() string {
	address := c.destination().Address
	if len(address) <= 30 {
		return ""
	}
	return "Notifications enabled for " + address[:30]
}
