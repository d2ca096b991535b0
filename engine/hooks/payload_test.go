package hooks_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
)

func canary(lastApplied string, tracked *map[string]string) *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "default"},
		Status: v1beta1.CanaryStatus{
			Phase:           v1beta1.CanaryPhaseProgressing,
			LastAppliedSpec: lastApplied,
			TrackedConfigs:  tracked,
		},
	}
}

var _ = Describe("Checksum", func() {
	// Golden values: Flagger v1.44.0's canaryChecksum (pkg/controller/webhook.go), i.e.
	// canary.ComputeHash (pkg/canary/spec.go; go-spew v1.1.2-0.20180830191138-d8f796af33cc,
	// k8s.io/apimachinery v0.36.2 rand.SafeEncodeString) of
	// struct{TrackedConfigs *map[string]string; LastAppliedSpec string} holding each
	// entry's status, printed by a program requiring github.com/fluxcd/flagger v1.44.0
	// (canaryChecksum is unexported: the program builds the same struct and calls
	// canary.ComputeHash). The inputs 4cb74184589 and 484637c76acaa7c6 are those of
	// Flagger's TestCallWebhook (pkg/controller/webhook_test.go); 5b7c8d9e is arbitrary.
	DescribeTable("matches Flagger's canaryChecksum",
		func(cd *v1beta1.Canary, want string) {
			Expect(hooks.Checksum(cd)).To(Equal(want))
		},
		Entry("empty status", canary("", nil), "758df7c9fc"),
		Entry("lastAppliedSpec only", canary("4cb74184589", nil), "7c9d467496"),
		Entry("Flagger's webhook_test status", canary("4cb74184589", &map[string]string{"test-config-map": "484637c76acaa7c6"}), "569bdb7cb9"),
		Entry("two tracked configs", canary("4cb74184589", &map[string]string{
			"secret/podinfo-secret": "5b7c8d9e", "configmap/podinfo-config": "484637c76acaa7c6"}), "795bd9d966"),
		Entry("empty tracked configs differ from none", canary("4cb74184589", &map[string]string{}), "56966965f5"),
	)

	It("changes with lastAppliedSpec and with trackedConfigs, and ignores the rest", func() {
		base := canary("aaa", &map[string]string{"configmap/c": "1"})
		sum := hooks.Checksum(base)
		Expect(hooks.Checksum(canary("bbb", &map[string]string{"configmap/c": "1"}))).NotTo(Equal(sum))
		Expect(hooks.Checksum(canary("aaa", &map[string]string{"configmap/c": "2"}))).NotTo(Equal(sum))
		other := canary("aaa", &map[string]string{"configmap/c": "1"})
		other.Name, other.Status.Phase, other.Status.FailedChecks = "other", v1beta1.CanaryPhaseFailed, 3
		Expect(hooks.Checksum(other)).To(Equal(sum))
	})
})

var _ = Describe("ComputeHash", func() {
	It("is deterministic over map order and sensitive to content", func() {
		a := map[string]string{"x": "1", "y": "2", "z": "3"}
		b := map[string]string{"z": "3", "y": "2", "x": "1"}
		Expect(hooks.ComputeHash(a)).To(Equal(hooks.ComputeHash(b)))
		Expect(hooks.ComputeHash(a)).NotTo(Equal(hooks.ComputeHash(map[string]string{"x": "1"})))
		Expect(hooks.ComputeHash(a)).To(MatchRegexp(`^[bcdfghjklmnpqrstvwxz2456789]+$`))
	})
})

var _ = Describe("NewPayload", func() {
	It("carries the canary, the phase, the checksum and the hook metadata", func() {
		// 569bdb7cb9: Flagger v1.44.0's canaryChecksum of this status (the Checksum
		// table's "Flagger's webhook_test status" entry).
		cd := canary("4cb74184589", &map[string]string{"test-config-map": "484637c76acaa7c6"})
		p := hooks.NewPayload(cd, v1beta1.CanaryPhaseInitialized, map[string]string{"key1": "val1"})
		Expect(p).To(Equal(hooks.Payload{Name: "podinfo", Namespace: "default", Phase: "Initialized",
			Checksum: "569bdb7cb9", Metadata: map[string]string{"key1": "val1"}}))
		raw, err := json.Marshal(hooks.NewPayload(cd, v1beta1.CanaryPhaseProgressing, nil))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).To(Equal(`{"name":"podinfo","namespace":"default","phase":"Progressing","checksum":"569bdb7cb9"}`))
	})
})

var _ = Describe("EventPayload", func() {
	now := time.UnixMilli(1700000000123).Add(456 * time.Microsecond)

	It("adds eventMessage, eventType and a unix-ms timestamp, with the canary's phase", func() {
		// 758df7c9fc: Flagger v1.44.0's canaryChecksum of an empty status (the Checksum
		// table's "empty status" entry).
		cd := canary("", nil)
		p := hooks.EventPayload(cd, "Normal", "Starting canary analysis for podinfo.default", now, nil)
		Expect(p).To(Equal(hooks.Payload{Name: "podinfo", Namespace: "default", Phase: "Progressing", Checksum: "758df7c9fc",
			Metadata: map[string]string{
				"eventMessage": "Starting canary analysis for podinfo.default",
				"eventType":    "Normal",
				"timestamp":    "1700000000123",
			}}))
	})

	It("adds user metadata keys without overriding the event keys", func() {
		cd := canary("", nil)
		cd.Status.Phase = ""
		p := hooks.EventPayload(cd, "Warning", "Canary failed! Scaling down podinfo.default", now,
			map[string]string{"eventType": "spoofed", "team": "web"})
		Expect(p.Phase).To(BeEmpty())
		Expect(p.Metadata).To(Equal(map[string]string{
			"eventMessage": "Canary failed! Scaling down podinfo.default",
			"eventType":    "Warning",
			"timestamp":    "1700000000123",
			"team":         "web",
		}))
	})
})
