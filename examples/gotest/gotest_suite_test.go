// Package gotest_test is how a team tests its canary policy from Go: the tests
// run aviary scenarios against the team's Canary (canary.yaml) with the
// policytest package and assert on the runs with its Gomega matchers.
package gotest_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestFrontendCanary(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "frontend canary policy")
}
