// Package cluster is the Kubernetes side of a simulation: the API a run talks to and
// what a cluster does besides the engine.
//
//   - fast mode's API: controller-runtime's fake client behind a typed read cache and
//     typed updates (NewFakeClient), which counts its writes (Writes) and judges each
//     as a kube-apiserver would: custom resources against the embedded CRDs with
//     apiextensions-apiserver's validation (validation.go), what a scenario reaches of
//     the built-in kinds (sim/apicheck), sparing what cannot fail
//     (validation_ratchet.go);
//   - envtest mode's API: one real kube-apiserver and etcd (StartEnvtest), and a
//     client that gives each run namespaces of its own (ScenarioClient);
//   - the Deployment simulator: what the Deployment and ReplicaSet controllers and
//     the kubelets do for the Deployments of a namespace (DeploymentSimulator);
//   - the webhook simulator: endpoints that answer the engine's webhook calls in
//     virtual time through the engine's own HTTP caller (WebhookSimulator);
//   - the event writer: the engine's events as Kubernetes Events (EventWriter).
//
// It knows neither scenarios nor the synthetic world: the runner hands it plain
// values (a namespace, a startup delay, a readiness override) and functions (the
// webhook script that says which replies answer a call).
package cluster
