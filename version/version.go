package version

import (
	"runtime"
	"runtime/debug"
)

// Version is aviary's release.
const Version = "0.14.0"

// FlaggerVersion is the Flagger release whose decisions, metrics and log lines the
// engine and the live controller reproduce (docs/flagger-semantics.md).
const FlaggerVersion = "1.44.0"

// Commit is the source revision, set at link time:
//
//	go build -ldflags "-X aviary.dev/aviary/version.Commit=$(git rev-parse HEAD)"
//
// Empty, Revision falls back to the build's VCS stamp.
var Commit string

// Unknown is the revision of a build that carries none (no -X, built with
// -buildvcs=false or outside a repository).
const Unknown = "unknown"

// Revision is Commit, or else the VCS revision Go stamped into the binary
// (vcs.revision, "-dirty" appended when vcs.modified), or else Unknown.
func Revision() string {
	if Commit != "" {
		return Commit
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Unknown
	}
	return revisionOf(bi.Settings)
}

// revisionOf reads the revision from a build's settings.
func revisionOf(settings []debug.BuildSetting) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return Unknown
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}

// Info is what `aviary version -o json` prints.
type Info struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	FlaggerVersion string `json:"flaggerVersion"`
	GoVersion      string `json:"goVersion"`
}

// Get is this binary's Info.
func Get() Info {
	return Info{Version: Version, Commit: Revision(), FlaggerVersion: FlaggerVersion, GoVersion: runtime.Version()}
}

// String is the line `aviary version` and `aviary --version` print:
//
//	aviary 0.14.0 (commit 1a2b3c4, Flagger 1.44.0 semantics, go1.26.8)
func (i Info) String() string {
	return "aviary " + i.Version + " (commit " + i.Commit + ", Flagger " + i.FlaggerVersion + " semantics, " + i.GoVersion + ")"
}
