package engine

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The engine's specs live in two packages compiled into one test binary: this one
// (package engine) tests unexported helpers (nextStepWeight, the status writers, the
// Promoted condition); package engine_test drives whole ticks through the public
// Engine against sim's fake API server, the way Flagger's scheduler tests call
// advanceCanary by hand.
func TestEngine(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "engine")
}
