// Package notify posts the live controller's alerts as Flagger 1.44's notifiers do
// (pkg/notifier): Slack, Discord and Rocket (Slack's payload), Microsoft Teams
// (a MessageCard) and Google Chat (a card), JSON POSTs through an optional proxy with
// Flagger's timeout and status rule, and the global notifier Flagger builds from its
// -slack-* and -msteams-* flags. Sender is the engine's AlertSender port.
//
// It must not know Kubernetes (the engine reads AlertProviders and their Secrets and
// hands over the resolved destination), scenarios or the simulator. Addresses and
// tokens are secrets: its errors name an address by its scheme and host only.
package notify
