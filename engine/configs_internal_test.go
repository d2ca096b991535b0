package engine

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Flagger's ConfigTracker.HasConfigChanged (pkg/canary/config_tracker.go).
var _ = DescribeTable("configsChanged",
	func(tracked *map[string]string, current map[string]string, want bool) {
		Expect(configsChanged(tracked, current)).To(Equal(want))
	},
	Entry("nothing tracked, nothing used", nil, map[string]string{}, false),
	Entry("nothing tracked yet, a config used", nil, map[string]string{"configmap/a": "1"}, true),
	Entry("same configs, same checksums", &map[string]string{"configmap/a": "1"}, map[string]string{"configmap/a": "1"}, false),
	Entry("a checksum changed", &map[string]string{"configmap/a": "1"}, map[string]string{"configmap/a": "2"}, true),
	Entry("a config added", &map[string]string{"configmap/a": "1"}, map[string]string{"configmap/a": "1", "secret/b": "3"}, true),
	Entry("a config no longer tracked", &map[string]string{"configmap/a": "1", "secret/b": "3"}, map[string]string{"configmap/a": "1"}, true),
	Entry("the last config removed", &map[string]string{"configmap/a": "1"}, map[string]string{}, true),
	Entry("an empty map tracked, none used", &map[string]string{}, map[string]string{}, false),
)
