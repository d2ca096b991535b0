package notify

import (
	"fmt"

	"aviary.dev/aviary/engine"
)

// The JSON bodies of Flagger's notifiers (pkg/notifier/slack.go, teams.go, gchat.go):
// the same fields in the same order, so that encoding/json writes the same bytes.

type slackPayload struct {
	Channel     string            `json:"channel"`
	Username    string            `json:"username"`
	IconURL     string            `json:"icon_url"`
	IconEmoji   string            `json:"icon_emoji"`
	Text        string            `json:"text,omitempty"`
	Attachments []slackAttachment `json:"attachments,omitempty"`
}

type slackAttachment struct {
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackColors are the attachment colours of the Slack-payload notifiers: for error
// alerts and for the others.
type slackColors struct{ error, other string }

var (
	slackGood   = slackColors{error: "danger", other: "good"} // Slack and Discord
	rocketColor = slackColors{error: "#FF0000", other: "#0076D7"}
)

// slackMessage is the payload Slack, Discord and Rocket notifiers post.
func slackMessage(channel, username string, colors slackColors, msg engine.AlertMessage) slackPayload {
	color := colors.other
	if msg.Severity == "error" {
		color = colors.error
	}
	fields := make([]slackField, 0, len(msg.Fields))
	for _, f := range msg.Fields {
		fields = append(fields, slackField{Title: f.Name, Value: f.Value})
	}
	return slackPayload{
		Channel:   channel,
		Username:  username,
		IconEmoji: ":rocket:",
		Attachments: []slackAttachment{{
			Color:      color,
			AuthorName: subject(msg),
			Text:       msg.Message,
			MrkdwnIn:   []string{"text"},
			Fields:     fields,
		}},
	}
}

// subject is how every notifier names the canary: "<name>.<namespace>".
func subject(msg engine.AlertMessage) string {
	return fmt.Sprintf("%s.%s", msg.Name, msg.Namespace)
}

type teamsPayload struct {
	Type       string         `json:"@type"`
	Context    string         `json:"@context"`
	ThemeColor string         `json:"themeColor"`
	Summary    string         `json:"summary"`
	Sections   []teamsSection `json:"sections"`
}

type teamsSection struct {
	ActivityTitle    string      `json:"activityTitle"`
	ActivitySubtitle string      `json:"activitySubtitle"`
	Facts            []teamsFact `json:"facts"`
}

type teamsFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// teamsMessage is the MessageCard the MS Teams notifier posts.
func teamsMessage(msg engine.AlertMessage) teamsPayload {
	facts := make([]teamsFact, 0, len(msg.Fields))
	for _, f := range msg.Fields {
		facts = append(facts, teamsFact(f))
	}
	color := "0076D7"
	if msg.Severity == "error" {
		color = "FF0000"
	}
	return teamsPayload{
		Type:       "MessageCard",
		Context:    "http://schema.org/extensions",
		ThemeColor: color,
		Summary:    subject(msg),
		Sections:   []teamsSection{{ActivityTitle: msg.Message, ActivitySubtitle: subject(msg), Facts: facts}},
	}
}

type gchatPayload struct {
	Cards []gchatCard `json:"cards"`
}

type gchatCard struct {
	Header   gchatHeader     `json:"header"`
	Sections []*gchatSection `json:"sections"`
}

type gchatHeader struct {
	Title    string `json:"title"`
	SubTitle string `json:"subtitle"`
	ImageURL string `json:"imageUrl"`
}

type gchatSection struct {
	Widgets []gchatWidget `json:"widgets"`
}

type gchatWidget struct {
	TextParagraph gchatText `json:"textParagraph"`
}

type gchatText struct {
	Text string `json:"text"`
}

// gchatMessage is the card the Google Chat notifier posts: the message, then each
// field, as text paragraphs (HTML; the severity is not shown).
func gchatMessage(msg engine.AlertMessage) gchatPayload {
	paragraph := func(text string) *gchatSection {
		return &gchatSection{Widgets: []gchatWidget{{TextParagraph: gchatText{Text: text}}}}
	}
	const grey = "<font color=#848484><strong>"
	sections := make([]*gchatSection, 0, 1+len(msg.Fields))
	sections = append(sections, paragraph(grey+msg.Message+"</strong></font>"))
	for _, f := range msg.Fields {
		sections = append(sections, paragraph(f.Name+"<br>"+grey+f.Value+"</strong></font>"))
	}
	return gchatPayload{Cards: []gchatCard{{
		Header:   gchatHeader{Title: "Flagger", SubTitle: subject(msg), ImageURL: "https://flagger.app/favicon.png"},
		Sections: sections,
	}}}
}
