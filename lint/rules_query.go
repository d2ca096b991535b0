package lint

// queryRules check the queries a Canary's checks run, rendered with Flagger's
// variables and parsed by Prometheus' PromQL parser.
var queryRules = []*Rule{}
