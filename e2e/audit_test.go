package e2e_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"aviary.dev/aviary/e2e"
)

var _ = Describe("reading what a user did and was granted", func() {
	const sa = "system:serviceaccount:aviary-system:aviary"
	event := func(id, stage, verb, user, objectRef string, code int) string {
		line := `{"auditID":"` + id + `","stage":"` + stage + `","verb":"` + verb + `","requestURI":"/apis/x?watch=true",` +
			`"user":{"username":"admin"},"responseStatus":{"code":` + strconv.Itoa(code) + `}`
		if user != "" {
			line += `,"impersonatedUser":{"username":"` + user + `"}`
		}
		if objectRef != "" {
			line += `,"objectRef":` + objectRef
		}
		return line + "}"
	}
	canaries := `{"apiGroup":"flagger.app","resource":"canaries","namespace":"team-a"}`

	It("counts each of the user's requests once, with the 403s apart", func() {
		path := filepath.Join(GinkgoT().TempDir(), "audit.log")
		lines := []string{
			event("1", "ResponseStarted", "watch", sa, canaries, 200),
			event("1", "ResponseComplete", "watch", sa, canaries, 200), // the same watch, ended
			event("2", "ResponseComplete", "create", sa, `{"resource":"events","namespace":"team-a"}`, 201),
			event("3", "ResponseComplete", "create", sa, `{"resource":"events","namespace":"team-a"}`, 201),
			event("4", "ResponseComplete", "list", sa, `{"apiGroup":"flagger.app","resource":"canaries"}`, 403),
			event("5", "ResponseComplete", "delete", "", canaries, 200), // the admin's own
			event("6", "ResponseComplete", "get", "system:serviceaccount:other:x", canaries, 200),
			event("7", "ResponseComplete", "get", sa, "", 200), // discovery
		}
		Expect(os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)).To(Succeed())
		a, err := e2e.ReadAudit(path, sa)
		Expect(err).NotTo(HaveOccurred())
		watch := e2e.Access{Group: "flagger.app", Resource: "canaries", Verb: "watch", Namespace: "team-a"}
		list := e2e.Access{Group: "flagger.app", Resource: "canaries", Verb: "list"}
		events := e2e.Access{Resource: "events", Verb: "create", Namespace: "team-a"}
		Expect(a.Counts).To(Equal(map[e2e.Access]int{watch: 1, list: 1, events: 2, {Verb: "get", Path: "/apis/x"}: 1}))
		Expect(a.Refused).To(Equal(map[e2e.Access]int{list: 1}))
		Expect(list.String()).To(Equal("list canaries.flagger.app cluster-wide"))
		Expect(events.String()).To(Equal("create events.core in team-a"))

		_, err = e2e.ReadAudit(path+"-missing", sa)
		Expect(err).To(HaveOccurred())
		Expect(os.WriteFile(path, []byte(lines[0]+"\nnot json\n"), 0o644)).To(Succeed())
		_, err = e2e.ReadAudit(path, sa)
		Expect(err).To(MatchError(ContainSubstring("audit.log:2:")))
		Expect(os.WriteFile(path, []byte(lines[0]+"\n"+lines[2][:20]), 0o644)).To(Succeed())
		a, err = e2e.ReadAudit(path, sa)
		Expect(err).NotTo(HaveOccurred(), "a line still being written is left")
		Expect(a.Counts).To(Equal(map[e2e.Access]int{watch: 1}))
	})

	It("expands the roles bound to the ServiceAccount, and finds the unused and the ungranted", func() {
		var objs []*unstructured.Unstructured
		for _, doc := range strings.Split(`
{kind: ClusterRole, metadata: {name: aviary}, rules: [{apiGroups: [flagger.app], resources: [canaries], verbs: [list, watch]}]}
---
{kind: ClusterRoleBinding, metadata: {name: aviary}, roleRef: {kind: ClusterRole, name: aviary},
 subjects: [{kind: ServiceAccount, name: aviary, namespace: aviary-system}]}
---
{kind: Role, metadata: {name: events, namespace: team-a}, rules: [{apiGroups: [""], resources: [events], verbs: [create, patch]}]}
---
{kind: RoleBinding, metadata: {name: events, namespace: team-a}, roleRef: {kind: Role, name: events},
 subjects: [{kind: ServiceAccount, name: aviary, namespace: aviary-system}]}
---
{kind: Role, metadata: {name: other, namespace: team-a}, rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]}
---
{kind: RoleBinding, metadata: {name: other, namespace: team-a}, roleRef: {kind: Role, name: other},
 subjects: [{kind: ServiceAccount, name: other, namespace: aviary-system}]}
`, "---") {
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
			objs = append(objs, u)
		}
		grants, err := e2e.GrantsTo(objs, "aviary-system", "aviary")
		Expect(err).NotTo(HaveOccurred())
		Expect(grants).To(ConsistOf(
			e2e.Grant{Role: "ClusterRole aviary", Group: "flagger.app", Resource: "canaries", Verb: "list"},
			e2e.Grant{Role: "ClusterRole aviary", Group: "flagger.app", Resource: "canaries", Verb: "watch"},
			e2e.Grant{Role: "Role events", Namespace: "team-a", Resource: "events", Verb: "create"},
			e2e.Grant{Role: "Role events", Namespace: "team-a", Resource: "events", Verb: "patch"},
		), "not the Role bound to another ServiceAccount")

		a := e2e.Audit{Counts: map[e2e.Access]int{
			{Group: "flagger.app", Resource: "canaries", Verb: "watch", Namespace: "team-b"}: 1,
			{Resource: "events", Verb: "create", Namespace: "team-a"}:                        3,
			{Resource: "events", Verb: "create", Namespace: "team-b"}:                        1, // the Role is team-a's
			{Resource: "secrets", Verb: "get", Namespace: "team-a"}:                          1,
			{Verb: "get", Path: "/api"}:                                                      1,
		}}
		Expect(e2e.Unused(grants, a)).To(ConsistOf(grants[0], grants[3]), "list canaries, patch events")
		Expect(e2e.Ungranted(grants, a)).To(Equal([]e2e.Access{
			{Resource: "events", Verb: "create", Namespace: "team-b"},
			{Resource: "secrets", Verb: "get", Namespace: "team-a"},
		}))

		_, err = e2e.GrantsTo(objs[1:2], "aviary-system", "aviary")
		Expect(err).To(MatchError(ContainSubstring("role ClusterRole aviary is not among the objects")))
	})
})
