package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"aviary.dev/aviary/deploy"
)

// The chart's RBAC, proven on an API server: the controller under test runs as the
// chart's ServiceAccount (the admin's kubeconfig impersonating it), and the API
// server's audit log says which requests it made.

// ServiceAccountUser is the user name the API server gives ServiceAccount name in
// namespace (the name a kubeconfig impersonates it by).
func ServiceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// rbacKinds are the kinds RenderRBAC keeps.
var rbacKinds = []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// RenderRBAC renders the chart in chartDir with helm (deploy.Render: the release
// aviary in aviary-system) with --set values, and keeps its ServiceAccount and RBAC
// objects (not --show-only: helm refuses a template that renders nothing, as
// rbac.yaml does with rbac.create=false).
func RenderRBAC(ctx context.Context, helm, chartDir string, set ...string) ([]*unstructured.Unstructured, error) {
	var args []string
	for _, s := range set {
		args = append(args, "--set", s)
	}
	objs, err := deploy.Render(ctx, helm, chartDir, args...)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(objs, func(u *unstructured.Unstructured) bool { return !slices.Contains(rbacKinds, u.GetKind()) }), nil
}

// AuditArgs are the API server flags of an RBAC run, with the files they name in
// dir: an audit log of every request at level Metadata (who, what, the answer's
// status; no bodies) as JSON lines in audit.log — the policy cannot select the
// impersonated user, since the API server evaluates it before impersonation, so
// ReadAudit does —, and the OwnerReferencesPermissionEnforcement admission plugin, so
// that an owner reference with blockOwnerDeletion needs the finalizers grant it needs
// on clusters that run the plugin.
func AuditArgs(dir string) (map[string]string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	const rules = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n"
	if err := os.WriteFile(policy, []byte(rules), 0o644); err != nil {
		return nil, err
	}
	return map[string]string{
		"audit-policy-file":        policy,
		"audit-log-path":           filepath.Join(dir, "audit.log"),
		"audit-log-format":         "json",
		"enable-admission-plugins": "OwnerReferencesPermissionEnforcement",
	}, nil
}

// Access is one kind of request a user made: a verb on a resource (and
// subresource) of an API group, in a namespace ("" cluster-wide), or on a
// non-resource path.
type Access struct {
	Group, Resource, Subresource, Verb, Namespace string
	// Path is a non-resource request's path (discovery: /api, /apis/...); the
	// resource fields are empty then.
	Path string
}

// ResourceName is "resource" or "resource/subresource", as RBAC rules name it.
func (a Access) ResourceName() string {
	if a.Subresource == "" {
		return a.Resource
	}
	return a.Resource + "/" + a.Subresource
}

func (a Access) String() string {
	if a.Path != "" {
		return a.Verb + " " + a.Path
	}
	scope := "cluster-wide"
	if a.Namespace != "" {
		scope = "in " + a.Namespace
	}
	return fmt.Sprintf("%s %s.%s %s", a.Verb, a.ResourceName(), groupName(a.Group), scope)
}

func groupName(g string) string {
	if g == "" {
		return "core"
	}
	return g
}

// Audit is what one user did, read from an audit log.
type Audit struct {
	// Counts are the requests of each Access.
	Counts map[Access]int
	// Refused are the requests answered 403 Forbidden.
	Refused map[Access]int
}

// auditEvent is the part of an audit.k8s.io/v1 Event ReadAudit needs.
type auditEvent struct {
	AuditID          string `json:"auditID"`
	Stage            string `json:"stage"`
	Verb             string `json:"verb"`
	RequestURI       string `json:"requestURI"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	ObjectRef *struct {
		APIGroup    string `json:"apiGroup"`
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// ReadAudit reads the requests user (an impersonated user) made from the JSON lines
// of the audit log at path. A request counts once (a watch logs ResponseStarted and,
// when it ends, ResponseComplete). The API server may be writing the log: a last line
// without its newline is left for a later read.
func ReadAudit(path, user string) (Audit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Audit{}, err
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	a := Audit{Counts: map[Access]int{}, Refused: map[Access]int{}}
	seen := map[string]bool{}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev auditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return a, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if ev.ImpersonatedUser == nil || ev.ImpersonatedUser.Username != user || seen[ev.AuditID] {
			continue
		}
		seen[ev.AuditID] = true
		acc := Access{Verb: ev.Verb}
		if r := ev.ObjectRef; r != nil {
			acc.Group, acc.Resource, acc.Subresource, acc.Namespace = r.APIGroup, r.Resource, r.Subresource, r.Namespace
		} else {
			acc.Path, _, _ = strings.Cut(ev.RequestURI, "?")
		}
		a.Counts[acc]++
		if ev.ResponseStatus != nil && ev.ResponseStatus.Code == 403 {
			a.Refused[acc]++
		}
	}
	return a, nil
}

// Grant is one verb on one resource a role gives, in a namespace ("" for a
// ClusterRole bound cluster-wide).
type Grant struct {
	Role, Namespace, Group, Resource, Verb string
}

func (g Grant) String() string {
	scope := "cluster-wide"
	if g.Namespace != "" {
		scope = "in " + g.Namespace
	}
	return fmt.Sprintf("%s %s.%s %s (%s)", g.Verb, g.Resource, groupName(g.Group), scope, g.Role)
}

// Allows reports whether g lets a through (resource requests only).
func (g Grant) Allows(a Access) bool {
	return a.Path == "" && g.Group == a.Group && g.Resource == a.ResourceName() && g.Verb == a.Verb &&
		(g.Namespace == "" || g.Namespace == a.Namespace)
}

// GrantsTo expands the rules of the roles in objs that a binding in objs gives to
// the ServiceAccount namespace/name, one Grant per verb and resource.
func GrantsTo(objs []*unstructured.Unstructured, namespace, name string) ([]Grant, error) {
	roles := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" || o.GetKind() == "Role" {
			roles[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = o
		}
	}
	var out []Grant
	for _, b := range objs {
		if b.GetKind() != "ClusterRoleBinding" && b.GetKind() != "RoleBinding" {
			continue
		}
		var binding rbacv1.RoleBinding // a ClusterRoleBinding has the same fields
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(b.Object, &binding); err != nil {
			return nil, fmt.Errorf("%s %s: %w", b.GetKind(), b.GetName(), err)
		}
		if !slices.ContainsFunc(binding.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == name && s.Namespace == namespace
		}) {
			continue
		}
		roleNS := b.GetNamespace() // a RoleBinding's role is in its namespace, and so is what it grants
		if binding.RoleRef.Kind == "ClusterRole" {
			roleNS = ""
		}
		role, ok := roles[binding.RoleRef.Kind+"/"+roleNS+"/"+binding.RoleRef.Name]
		if !ok {
			return nil, fmt.Errorf("%s %s: role %s %s is not among the objects", b.GetKind(), b.GetName(), binding.RoleRef.Kind, binding.RoleRef.Name)
		}
		var rules rbacv1.Role // a ClusterRole's rules are the same
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, &rules); err != nil {
			return nil, fmt.Errorf("%s %s: %w", role.GetKind(), role.GetName(), err)
		}
		for _, r := range rules.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out = append(out, Grant{Role: role.GetKind() + " " + role.GetName(), Namespace: b.GetNamespace(), Group: g, Resource: res, Verb: v})
					}
				}
			}
		}
	}
	return out, nil
}

// Unused are the grants no access of any audit used.
func Unused(grants []Grant, audits ...Audit) []Grant {
	var out []Grant
	for _, g := range grants {
		used := false
		for _, a := range audits {
			for acc := range a.Counts {
				used = used || g.Allows(acc)
			}
		}
		if !used {
			out = append(out, g)
		}
	}
	return out
}

// Ungranted are the resource accesses of a that no grant allows, sorted.
func Ungranted(grants []Grant, a Audit) []Access {
	var out []Access
	for acc := range a.Counts {
		if acc.Path == "" && !slices.ContainsFunc(grants, func(g Grant) bool { return g.Allows(acc) }) {
			out = append(out, acc)
		}
	}
	SortAccesses(out)
	return out
}

// SortAccesses sorts by group, resource, verb, namespace, path.
func SortAccesses(as []Access) {
	sort.Slice(as, func(i, j int) bool { return as[i].String() < as[j].String() })
}
