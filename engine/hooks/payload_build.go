package hooks

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/davecgh/go-spew/spew"
	"k8s.io/apimachinery/pkg/util/rand"

	"aviary.dev/aviary/api/v1beta1"
)

// NewPayload is the payload of a gating or notification webhook (Flagger's
// CallWebhook): the canary's name and namespace, the given phase, the canary's
// Checksum and the hook's metadata (omitted from the JSON when empty).
func NewPayload(cd *v1beta1.Canary, phase v1beta1.CanaryPhase, metadata map[string]string) Payload {
	return Payload{
		Name:      cd.Name,
		Namespace: cd.Namespace,
		Phase:     string(phase),
		Checksum:  Checksum(cd),
		Metadata:  metadata,
	}
}

// EventPayload is the payload of an event webhook (Flagger's CallEventWebhook):
// phase = the canary's status.phase, metadata = {eventMessage, eventType,
// timestamp (now in Unix milliseconds)} plus every user metadata key not already
// present (the three event keys cannot be overridden).
func EventPayload(cd *v1beta1.Canary, eventType, message string, now time.Time, userMetadata map[string]string) Payload {
	metadata := map[string]string{
		"eventMessage": message,
		"eventType":    eventType,
		"timestamp":    strconv.FormatInt(now.UnixNano()/int64(time.Millisecond), 10),
	}
	for k, v := range userMetadata {
		if _, ok := metadata[k]; ok {
			continue
		}
		metadata[k] = v
	}
	return Payload{
		Name:      cd.Name,
		Namespace: cd.Namespace,
		Phase:     string(cd.Status.Phase),
		Checksum:  Checksum(cd),
		Metadata:  metadata,
	}
}

// Checksum is Flagger's canaryChecksum: ComputeHash of the canary's
// status.trackedConfigs and status.lastAppliedSpec. It changes whenever a new
// revision or a new config of the target is being analysed.
func Checksum(cd *v1beta1.Canary) string {
	fields := struct {
		TrackedConfigs  *map[string]string
		LastAppliedSpec string
	}{
		cd.Status.TrackedConfigs,
		cd.Status.LastAppliedSpec,
	}
	return ComputeHash(fields)
}

// ComputeHash is Flagger's canary.ComputeHash (the algorithm of Kubernetes'
// hashutil.DeepHashObject): FNV-32a over a go-spew dump of obj (type names
// included, pointers followed, map keys sorted, no methods), written as
// rand.SafeEncodeString of the decimal hash. Equal inputs give Flagger's exact
// strings. The dump names every field of every struct, so Kubernetes objects must be
// given in the types Flagger was built with (engine/workload.TemplateHash does so for
// status.lastAppliedSpec); Checksum's input has no Kubernetes types.
func ComputeHash(obj any) string {
	hasher := fnv.New32a()
	printer := spew.ConfigState{
		Indent:         " ",
		SortKeys:       true,
		DisableMethods: true,
		SpewKeys:       true,
	}
	printer.Fprintf(hasher, "%#v", obj)
	return rand.SafeEncodeString(fmt.Sprint(hasher.Sum32()))
}
