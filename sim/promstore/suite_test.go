package promstore_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestPromstore(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "sim/promstore")
}

// epoch is where the tests' samples start.
var epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
