// Package version is aviary's one version source: the release (Version), the commit
// it was built from (Commit, or the build's VCS stamp), and the Flagger release
// whose semantics the engine reproduces (FlaggerVersion). Everything that prints or
// labels a version reads it: `aviary version` and `--version`, the live
// controller's info metrics, the image's labels and tag, the chart's appVersion.
//
// It must not know anything else of aviary: every package may import it.
package version
