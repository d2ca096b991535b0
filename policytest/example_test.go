package policytest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/gomega"

	"aviary.dev/aviary/policytest"
)

// A Go test runs a library scenario against the team's own Canary and asserts on
// the run. Outside Ginkgo, gomega.NewGomega reports to a fail function (a
// *testing.T's Fatalf in a test).
func Example() {
	ctx := context.Background()
	rec, err := policytest.Run(ctx, "../scenarios/podinfo-500-burst.yaml",
		policytest.WithCanaryFile("../scenarios/policies/podinfo.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	g.Expect(rec).To(policytest.BeRolledBack())
	g.Expect(rec).To(policytest.HaveRoutesAt(8*time.Minute, 70, 30))
	g.Expect(rec).To(policytest.HaveRoutes(100, 0))
	g.Expect(rec).To(policytest.HaveEvent("failed checks threshold reached 5"))
	g.Expect(rec).To(policytest.PassExpectations())

	at, _ := rec.Decided()
	fmt.Println("rolled back at", at, "after", rec.FailedChecks(), "failed checks")
	// A matcher that does not hold says what happened instead.
	g.Expect(rec).To(policytest.BePromotedWithin(15 * time.Minute))
	// Output:
	// rolled back at 11m0s after 5 failed checks
	// Expected scenario podinfo-500-burst (../scenarios/podinfo-500-burst.yaml) to be promoted within 15m, but its final phase is Failed
	//   final phase Failed at 11:00; routes [10 20 30 0]; max canary weight 30; failed user requests on new versions 3,242
	//   why: Rolled back at 11m: failed checks threshold reached (5 failed checks): request-success-rate was 70 (below the minimum 99) at 6m, 7m, 8m, 9m, 10m.
	//   last 5 of 17 events:
	//     at 8m: Halt podinfo.test advancement success rate 70.00% < 99%
	//     at 9m: Halt podinfo.test advancement success rate 70.00% < 99%
	//     at 10m: Halt podinfo.test advancement success rate 70.00% < 99%
	//     at 11m: Rolling back podinfo.test failed checks threshold reached 5
	//     at 11m: Canary failed! Scaling down podinfo.test
}
