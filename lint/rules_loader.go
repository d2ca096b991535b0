package lint

// loaderRules are the problems sim/scenario's loader reports as policy warnings;
// lint documents them and turns each warning into a finding.
var loaderRules = []*Rule{}
