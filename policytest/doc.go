// Package policytest runs aviary scenarios from Go tests and asserts on their runs
// with Gomega matchers, for teams that test their canary policies in Go rather than
// with `aviary test`.
//
// A scenario is loaded with the same strict loader as `aviary test` (every problem
// named file:line: field), from a file (Load) or from YAML held in the test (LoadYAML),
// optionally with the Canary replaced by one the team keeps in its own repository
// (WithCanaryFile). It is run by the simulator's runner (sim.Run), in fast mode unless
// InEnvtest gives an API server, and the run record is returned as a Record: the
// scenario.Result reports and `aviary test` read, with a few accessors.
//
//	rec, err := policytest.Run(ctx, "scenarios/podinfo-500-burst.yaml",
//		policytest.WithCanaryFile("deploy/canary.yaml"))
//	Expect(err).NotTo(HaveOccurred())
//	Expect(rec).To(policytest.BeRolledBack())
//	Expect(rec).To(policytest.HaveRoutes(100, 0))
//	Expect(rec).To(policytest.HaveEvent("failed checks threshold reached"))
//	Expect(rec).To(policytest.PassExpectations()) // the scenario's own spec.expect
//
// The matchers (matchers.go) accept a *Record or a *scenario.Result. Their failure
// messages say what happened the way `aviary test` does (reports.Outcome, reports.Why,
// the last events), never the whole record.
//
// It decides nothing: the engine decides, sim runs, sim/scenario loads and checks
// expectations (PassExpectations is scenario.Check's verdict), reports words the
// messages. It knows nothing of the event loop or of the engine's ports; an envtest
// API server is only handed on to the runner.
package policytest
