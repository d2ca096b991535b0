// Package apicheck is a kube-apiserver's judgement of the built-in kinds a scenario
// reaches (Deployments and Services): the object's name, labels and annotations,
// container and Service port numbers and names, with apimachinery's rules and the
// API server's field paths and messages. The API server validates these kinds with
// k8s.io/kubernetes' own code, which aviary cannot import; this is the part of it a
// policy can get wrong.
//
// Two places judge by it: the fast client (sim/cluster), on every write, and the
// scenario loader (sim/scenario), on the Services Flagger will generate from a
// Canary, so that a policy whose Services the API server would refuse is an error
// with its file and line before a run, in both cluster modes.
//
// It knows no client, no scenario and no Flagger rule: it is handed objects.
package apicheck
