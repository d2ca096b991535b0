package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/operation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"aviary.dev/aviary/fixtures"
	"aviary.dev/aviary/sim/apicheck"
)

// crdSchemas are the schemas of every version of every CRD in fixtures/, as a
// kube-apiserver builds them to serve the custom resources (apiextensions-apiserver's
// customresource_handler.go): built from the embedded CRDs, once per process — they
// are constants of the binary, and what is built from them is read-only and safe
// for concurrent use (the API server shares it between requests too). envtest mode
// installs the same embedded CRDs, so both modes judge by one source.
var crdSchemas = sync.OnceValues(loadCRDSchemas)

// loadCRDSchemas indexes the embedded CRDs by group, version and kind; each
// version's validators are built on first use (crdVersion.build).
func loadCRDSchemas() (map[schema.GroupVersionKind]*crdVersion, error) {
	crds, err := fixtures.CRDs()
	if err != nil {
		return nil, fmt.Errorf("load the embedded CRDs: %w", err)
	}
	out := map[schema.GroupVersionKind]*crdVersion{}
	for _, crd := range crds {
		for i := range crd.Spec.Versions {
			v := &crd.Spec.Versions[i]
			if !v.Served {
				continue
			}
			gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
			out[gvk] = &crdVersion{
				crd:        crd.Name,
				gk:         gvk.GroupKind(),
				namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
				// the API server keeps the status of an object whose CRD has a status
				// subresource out of creates and updates (customresource strategy)
				hasStatus: v.Subresources != nil && v.Subresources.Status != nil,
				v1:        v.Schema,
			}
		}
	}
	return out, nil
}

// crdVersion is one served version of a CRD and, once built, what the API server
// judges its objects with.
type crdVersion struct {
	crd        string
	gk         schema.GroupKind
	namespaced bool
	hasStatus  bool
	v1         *apiextensionsv1.CustomResourceValidation

	once  sync.Once
	built *crdValidators
	err   error
}

// crdValidators are the API server's validators of one CRD version (NewStrategy's
// arguments in customresource_handler.go).
type crdValidators struct {
	// structural is the structural schema with its defaults pruned, as the API
	// server prunes, defaults and runs CEL rules with it; root is the same for
	// sparing writes (validation_ratchet.go).
	structural *structuralschema.Structural
	root       *schemaNode
	// schema validates a whole object, status the status of a status write (nil
	// without a status subresource).
	schema, status apiservervalidation.SchemaValidator
	// cel holds the compiled x-kubernetes-validations rules, with the API server's
	// per-call cost limit.
	cel *cel.Validator
	// hasDefaults: defaulting can change an object (no `default:` anywhere: it
	// cannot, and the fast client need not look).
	hasDefaults bool

	// statusSchema is the structural schema's status (nil without a status
	// subresource), statusCEL the rules under it (nil without any): with no rule
	// at the root, a status write can break no other (see checkStatus).
	statusSchema *structuralschema.Structural
	statusCEL    *cel.Validator

	// types are the Go types of the objects written of this version, as sparing
	// knows them.
	typesMu sync.Mutex
	types   goTypes
}

// goType is what sparing knows of Go type t (validation_ratchet.go).
func (c *crdValidators) goType(t reflect.Type) *goType {
	c.typesMu.Lock()
	defer c.typesMu.Unlock()
	if c.types == nil {
		c.types = goTypes{}
	}
	return c.types.typeOf(t)
}

// verdict is what the API server makes of a write: its errors, and what it stores
// when that is not the write as given (JSON; nil: as given).
type verdict struct {
	errs   field.ErrorList
	stored []byte
}

// Verdicts remembers what the API server's checks said of writes whose verdict is a
// function of the write alone — creates, and status writes (checkStatus) — by the
// CRD version's validators and the write's JSON, so that the same object written
// again is judged once (docs/architecture.md, performance contract 5). A fast client
// has its own unless it is given one to share: a suite's runs create the same
// Canary, templates and routes, and share one (sim.RunSuite). Safe for concurrent use.
type Verdicts struct {
	mu sync.Mutex
	m  map[memoKey]verdict
}

type memoKey struct {
	c     *crdValidators
	write string
}

// NewVerdicts returns an empty memo of verdicts.
func NewVerdicts() *Verdicts { return &Verdicts{m: map[memoKey]verdict{}} }

// memoLimit bounds a memo; a full one starts over.
const memoLimit = 4096

func (m *Verdicts) recall(c *crdValidators, write string) (verdict, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vd, ok := m.m[memoKey{c, write}]
	return vd, ok
}

func (m *Verdicts) remember(c *crdValidators, write string, vd verdict) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= memoLimit {
		clear(m.m)
	}
	m.m[memoKey{c, write}] = vd
}

// validators builds (once) and returns v's validators.
func (v *crdVersion) validators() (*crdValidators, error) {
	v.once.Do(func() { v.built, v.err = v.build() })
	return v.built, v.err
}

func (v *crdVersion) build() (*crdValidators, error) {
	internal := &apiextensions.CustomResourceValidation{}
	if v.v1 != nil {
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.v1, internal, nil); err != nil {
			return nil, fmt.Errorf("CRD %s: convert the schema to apiextensions' internal version: %w", v.crd, err)
		}
	}
	props := internal.OpenAPIV3Schema
	s, err := structuralschema.NewStructural(props)
	if err != nil {
		return nil, fmt.Errorf("CRD %s: the schema is not structural: %w", v.crd, err)
	}
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, fmt.Errorf("CRD %s: prune the schema's defaults: %w", v.crd, err)
	}
	out := &crdValidators{structural: s, root: newSchemaNode(s), hasDefaults: hasDefaults(s)}
	if out.schema, _, err = apiservervalidation.NewSchemaValidator(props); err != nil {
		return nil, fmt.Errorf("CRD %s: %w", v.crd, err)
	}
	if v.hasStatus && props != nil {
		if st, ok := props.Properties["status"]; ok {
			if out.status, _, err = apiservervalidation.NewSchemaValidator(&st); err != nil {
				return nil, fmt.Errorf("CRD %s: status: %w", v.crd, err)
			}
		}
	}
	out.cel = cel.NewValidator(s, true, celconfig.PerCallLimit)
	if st, ok := s.Properties["status"]; ok && out.status != nil {
		out.statusSchema = &st
		out.statusCEL = cel.NewValidator(&st, false, celconfig.PerCallLimit)
	}
	return out, nil
}

// hasDefaults says whether s or anything under it has a default.
func hasDefaults(s *structuralschema.Structural) bool {
	if s == nil {
		return false
	}
	if s.Default.Object != nil {
		return true
	}
	for k := range s.Properties {
		p := s.Properties[k]
		if hasDefaults(&p) {
			return true
		}
	}
	if s.AdditionalProperties != nil && hasDefaults(s.AdditionalProperties.Structural) {
		return true
	}
	return hasDefaults(s.Items)
}

// A write as the API server receives it: the object decoded from the request body
// (JSON numbers as int64 or float64, as apimachinery decodes them).
type request = map[string]any

// decode is what the API server's decoder does to a request body of v's kind before
// anything else (customresource_handler.go: unstructuredSchemaCoercer, then the
// unstructured defaulter): unknown fields are pruned, nulls where no null is allowed
// dropped, embedded objects' metadata coerced, defaults applied. It reports whether
// the object changed in a way a typed client would see: a field pruned or defaulted.
func (c *crdValidators) decode(u request) (changed bool, err error) {
	pruned := structuralpruning.PruneWithOptions(u, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, c.structural)
	if c.root.embedded {
		if ferr := schemaobjectmeta.Coerce(nil, u, c.structural, false, false); ferr != nil {
			return false, apierrors.NewBadRequest(ferr.Error())
		}
	}
	changed = len(pruned) > 0
	if c.hasDefaults {
		before := runtime.DeepCopyJSON(u)
		structuraldefaulting.Default(u, c.structural)
		changed = changed || !apiequality.Semantic.DeepEqual(before, map[string]any(u))
	}
	return changed, nil
}

// validateCreate is the customresource strategy's Validate (after PrepareForCreate):
// metadata, the schema, embedded objects' metadata, list types, then the CEL rules
// unless an error already makes them moot.
func (v *crdVersion) validateCreate(ctx context.Context, c *crdValidators, u request) field.ErrorList {
	errs := v.validateMetadata(ctx, u, nil)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u, c.schema)...)
	if c.root.embedded {
		errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u, c.structural, false)...)
	}
	if c.root.listed {
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, c.structural, u)...)
	}
	return append(errs, c.runCEL(ctx, errs, u, nil)...)
}

// validateUpdate is the customresource strategy's ValidateUpdate, or with status its
// status strategy's: as on create, against the old object with the API server's
// ratcheting (an error in a part the write did not change is not reported).
func (v *crdVersion) validateUpdate(ctx context.Context, c *crdValidators, u, old request, status bool) field.ErrorList {
	correlated := common.NewCorrelatedObject(u, old, &model.Structural{Structural: c.structural})
	ratchet := apiservervalidation.WithRatcheting(correlated)
	errs := v.validateMetadata(ctx, u, old)
	if status {
		if st, ok := u["status"]; ok && c.status != nil {
			errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(field.NewPath("status"), st, old["status"], c.status,
				apiservervalidation.WithRatcheting(correlated.Key("status")))...)
		}
		if listErrs := structurallisttype.ValidateListSetsAndMaps(nil, c.structural, u); len(listErrs) > 0 &&
			len(structurallisttype.ValidateListSetsAndMaps(nil, c.structural, old)) == 0 {
			errs = append(errs, listErrs...)
		}
	} else {
		errs = append(errs, apiservervalidation.ValidateCustomResourceUpdate(nil, u, old, c.schema, ratchet)...)
		errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u, c.structural, false)...)
		if len(structurallisttype.ValidateListSetsAndMaps(nil, c.structural, old)) == 0 {
			errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, c.structural, u)...)
		}
	}
	return append(errs, c.runCEL(ctx, errs, u, old, cel.WithRatcheting(correlated))...)
}

// runCEL evaluates the x-kubernetes-validations rules within the API server's
// per-object cost budget; after an error that leaves the object's shape in doubt
// it reports, as the API server does, that the rules were not checked.
func (c *crdValidators) runCEL(ctx context.Context, errs field.ErrorList, u, old request, opts ...cel.Option) field.ErrorList {
	if c.cel == nil {
		return nil // no rule in the schema
	}
	if blocked := blockingError(errs); blocked != nil {
		return field.ErrorList{blocked}
	}
	var oldObj any
	if old != nil {
		oldObj = old
	}
	celErrs, _ := c.cel.Validate(ctx, nil, c.structural, map[string]any(u), oldObj, celconfig.RuntimeCELCostBudget, opts...)
	return celErrs
}

// blockingError is the API server's error for not running the CEL rules after errs,
// or nil when errs leave the object's shape such that the rules can run.
func blockingError(errs field.ErrorList) *field.Error {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

// validateMetadata is the customresource validator's metadata check (on create, old
// is nil). The namespace is not judged: envtest mode maps a run's namespaces to
// names of its own (ScenarioClient), so the API server never sees the policy's, and
// both modes agree by leaving it alone.
func (v *crdVersion) validateMetadata(ctx context.Context, u, old request) field.ErrorList {
	meta, errs := objectMetaOf(u)
	if len(errs) > 0 {
		return errs
	}
	beta := utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta)
	if old == nil {
		return withoutNamespace(metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, v.namespaced,
			metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"), beta))
	}
	oldMeta, errs := objectMetaOf(old)
	if len(errs) > 0 {
		return errs
	}
	return withoutNamespace(metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Update, meta, oldMeta, v.namespaced,
		nil, field.NewPath("metadata"), beta))
}

// builtinErrors is what the API server finds wrong with a write of a built-in kind
// (apicheck.Errors), but for the namespace, which is not the scenario's in envtest mode.
func builtinErrors(obj, old client.Object) field.ErrorList {
	return withoutNamespace(apicheck.Errors(obj, old))
}

// withoutNamespace drops the errors about metadata.namespace (see validateMetadata).
func withoutNamespace(errs field.ErrorList) field.ErrorList {
	kept := errs[:0]
	for _, e := range errs {
		if e.Field != "metadata.namespace" {
			kept = append(kept, e)
		}
	}
	return kept
}

// objectMetaOf reads a request's metadata as the customresource validator does.
func objectMetaOf(u request) (*metav1.ObjectMeta, field.ErrorList) {
	raw, ok := u["metadata"]
	if !ok || raw == nil {
		return &metav1.ObjectMeta{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, fmt.Sprintf("expected map[string]interface{}, got %T", raw))}
	}
	meta := &metav1.ObjectMeta{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, meta); err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
	}
	return meta, nil
}

// ---------------------------------------------------------------------------------
// The fast client's checks

// serverChecks is what the fast client checks and completes, as a kube-apiserver
// would, before it stores an object: custom resources against their CRD (crdSchemas),
// and of the built-in kinds the fields a scenario reaches (builtinErrors).
type serverChecks struct {
	crds map[schema.GroupVersionKind]*crdVersion
	// spared counts the writes spared a full check. With auditing (tests), every
	// spared write is checked in full as well, and audit lists the disagreements.
	spared   int
	auditing bool
	audit    []string
	// memo spares judging again what was judged already.
	memo *Verdicts
	// err is why the embedded CRDs could not be read: every write fails with it.
	err error
}

// newServerChecks are the checks of one client, remembering verdicts in memo (nil:
// its own).
func newServerChecks(memo *Verdicts) *serverChecks {
	if memo == nil {
		memo = NewVerdicts()
	}
	crds, err := crdSchemas()
	return &serverChecks{crds: crds, memo: memo, err: err}
}

// CheckCreate checks obj as fast mode checks a create of it, and completes it as the
// API server would store it (a custom resource pruned and defaulted): for tests and
// tools that hold fast mode against a real API server.
func CheckCreate(s *runtime.Scheme, obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, s)
	if err != nil {
		return err
	}
	return newServerChecks(nil).create(context.Background(), gvk, obj)
}

// create checks obj, of kind gvk, as the API server checks a create; obj becomes
// what the API server would store (pruned, defaulted, without a status where the
// status is a subresource). The error is the API server's: apierrors.NewInvalid
// naming every field.
func (sc *serverChecks) create(ctx context.Context, gvk schema.GroupVersionKind, obj client.Object) error {
	if sc.err != nil {
		return sc.err
	}
	v, ok := sc.crds[gvk]
	if !ok {
		return invalid(gvk.GroupKind(), obj.GetName(), builtinErrors(obj, nil))
	}
	c, err := v.validators()
	if err != nil {
		return err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	vd, ok := sc.memo.recall(c, string(data))
	if !ok {
		if vd, err = v.judgeCreate(ctx, c, gvk, data, obj); err != nil {
			return err
		}
		sc.memo.remember(c, string(data), vd)
	}
	if err := invalid(v.gk, obj.GetName(), vd.errs); err != nil {
		return err
	}
	if vd.stored != nil {
		return storeInto(obj, vd.stored)
	}
	return nil
}

// judgeCreate is create's verdict on obj, whose JSON data is.
func (v *crdVersion) judgeCreate(ctx context.Context, c *crdValidators, gvk schema.GroupVersionKind, data []byte, obj client.Object) (verdict, error) {
	u, err := requestFrom(gvk, data)
	if err != nil {
		return verdict{}, err
	}
	changed, err := c.decode(u)
	if err != nil {
		return verdict{}, err
	}
	if st, ok := u["status"]; ok && v.hasStatus {
		// PrepareForCreate: a create cannot set the status
		delete(u, "status")
		if m, isMap := st.(map[string]any); !isMap || len(m) > 0 {
			if f := statusField(obj); !f.IsValid() || !f.IsZero() {
				changed = true
			}
		}
	}
	vd := verdict{errs: v.validateCreate(ctx, c, u)}
	if len(vd.errs) == 0 && changed {
		if vd.stored, err = json.Marshal(u); err != nil {
			return verdict{}, err
		}
	}
	return vd, nil
}

// update checks the write of obj over the stored old (both of kind gvk), as the API
// server checks an update (status false) or a write of the status subresource;
// obj becomes what the API server would store of it, as create says.
func (sc *serverChecks) update(ctx context.Context, gvk schema.GroupVersionKind, obj, old client.Object, status bool) error {
	if sc.err != nil {
		return sc.err
	}
	v, ok := sc.crds[gvk]
	if !ok {
		if status {
			return nil // the status of a built-in kind is the simulator's
		}
		return invalid(gvk.GroupKind(), obj.GetName(), builtinErrors(obj, old))
	}
	c, err := v.validators()
	if err != nil {
		return err
	}
	if spared, metaErrs := sc.spare(ctx, v, c, obj, old, status); spared {
		sc.spared++
		if sc.auditing {
			sc.auditSpared(ctx, gvk, v, c, obj, old, status, metaErrs)
		}
		return invalid(v.gk, obj.GetName(), metaErrs)
	}
	return sc.fullUpdate(ctx, gvk, v, c, obj, old, status)
}

// fullUpdate is update's check of a write that is not spared.
func (sc *serverChecks) fullUpdate(ctx context.Context, gvk schema.GroupVersionKind, v *crdVersion, c *crdValidators, obj, old client.Object, status bool) error {
	if status && c.statusSchema != nil && len(c.structural.XValidations) == 0 {
		return invalid(v.gk, obj.GetName(), c.checkStatus(ctx, sc.memo, obj, old))
	}
	oldU, err := requestOf(gvk, old)
	if err != nil {
		return err
	}
	u, err := requestOf(gvk, obj)
	if err != nil {
		return err
	}
	changed, err := c.decode(u)
	if err != nil {
		return err
	}
	switch {
	case status:
		// the status strategy's PrepareForUpdate: everything but the status is
		// the stored object's
		st, has := u["status"]
		u = make(request, len(oldU))
		for k, x := range oldU {
			if k != "status" {
				u[k] = x
			}
		}
		if has {
			u["status"] = st
		}
	case v.hasStatus:
		// PrepareForUpdate: an update cannot change the status
		if st, oldSt := statusField(obj), statusField(old); st.IsValid() && oldSt.IsValid() && !sameValue(st, oldSt) {
			changed = true
		}
		if st, has := oldU["status"]; has {
			u["status"] = st
		} else {
			delete(u, "status")
		}
	}
	if err := invalid(v.gk, obj.GetName(), v.validateUpdate(ctx, c, u, oldU, status)); err != nil {
		return err
	}
	if changed {
		data, err := json.Marshal(u)
		if err != nil {
			return err
		}
		return storeInto(obj, data)
	}
	return nil
}

// auditSpared checks a spared write in full as well, on a copy, and records where
// the full check disagrees: it rejects the write, or changes what is stored.
func (sc *serverChecks) auditSpared(ctx context.Context, gvk schema.GroupVersionKind, v *crdVersion, c *crdValidators, obj, old client.Object, status bool, metaErrs field.ErrorList) {
	cp := obj.DeepCopyObject().(client.Object)
	err := sc.fullUpdate(ctx, gvk, v, c, cp, old, status)
	want := invalid(v.gk, obj.GetName(), metaErrs)
	switch {
	case (err == nil) != (want == nil) || (err != nil && err.Error() != want.Error()):
		sc.audit = append(sc.audit, fmt.Sprintf("%s %s (status %v): spared with %v, the full check says %v", gvk.Kind, obj.GetName(), status, want, err))
	case err == nil:
		a, errA := json.Marshal(obj)
		b, errB := json.Marshal(cp)
		if errA != nil || errB != nil || string(a) != string(b) {
			sc.audit = append(sc.audit, fmt.Sprintf("%s %s (status %v): spared, but the full check stores\n%s\nnot\n%s", gvk.Kind, obj.GetName(), status, b, a))
		}
	}
}

// invalid is the API server's error for errs about the object name of kind gk, or nil.
func invalid(gk schema.GroupKind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(gk, name, errs)
}

// requestOf is obj as the API server decodes the body of a write of it: the JSON a
// client sends, with its apiVersion and kind.
func requestOf(gvk schema.GroupVersionKind, obj client.Object) (request, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	return requestFrom(gvk, data)
}

// requestFrom is requestOf for the JSON data of an object.
func requestFrom(gvk schema.GroupVersionKind, data []byte) (request, error) {
	u := request{}
	if err := utiljson.Unmarshal(data, &u); err != nil {
		return nil, fmt.Errorf("decode %s: %w", gvk.Kind, err)
	}
	u["apiVersion"], u["kind"] = gvk.GroupVersion().String(), gvk.Kind
	return u, nil
}

// storeInto sets obj to the object whose JSON data is, as a client decodes what
// the API server answers (its apiVersion and kind as they were).
func storeInto(obj client.Object, data []byte) error {
	gvk := obj.GetObjectKind().GroupVersionKind()
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
	if err := json.Unmarshal(data, obj); err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return nil
}

// ---------------------------------------------------------------------------------
// The fake client's tracker

// checkingTracker is the fake client's object tracker behind the API server's checks:
// every write of the fake client — create, update, patch (applied by then), status
// write — reaches the tracker as the object to store, and is checked first.
// Server-side apply, which nothing in a run uses, is not judged.
type checkingTracker struct {
	clienttesting.ObjectTracker
	checks *serverChecks
	scheme *runtime.Scheme
	// statusKinds are the kinds the fake client gives a status subresource: an
	// update of one that changes only the status is a status write.
	statusKinds map[schema.GroupVersionKind]bool
}

func (t *checkingTracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.CreateOptions) error {
	if o, ok := obj.(client.Object); ok {
		gvk, err := apiutil.GVKForObject(o, t.scheme)
		if err != nil {
			return err
		}
		if err := t.checks.create(context.Background(), gvk, o); err != nil {
			return err
		}
	}
	return t.ObjectTracker.Create(gvr, obj, ns, opts...)
}

func (t *checkingTracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.UpdateOptions) error {
	if err := t.checkUpdate(gvr, obj, ns); err != nil {
		return err
	}
	return t.ObjectTracker.Update(gvr, obj, ns, opts...)
}

func (t *checkingTracker) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	if err := t.checkUpdate(gvr, obj, ns); err != nil {
		return err
	}
	return t.ObjectTracker.Patch(gvr, obj, ns, opts...)
}

// checkUpdate checks a write of obj over the stored object; one that is not stored
// is left to the tracker to refuse.
func (t *checkingTracker) checkUpdate(gvr schema.GroupVersionResource, obj runtime.Object, ns string) error {
	o, ok := obj.(client.Object)
	if !ok {
		return nil
	}
	stored, err := t.ObjectTracker.Get(gvr, ns, o.GetName())
	if err != nil {
		return nil
	}
	old, ok := stored.(client.Object)
	if !ok {
		return nil
	}
	gvk, err := apiutil.GVKForObject(o, t.scheme)
	if err != nil {
		return err
	}
	return t.checks.update(context.Background(), gvk, o, old, t.statusKinds[gvk] && onlyStatusDiffers(o, old))
}

// onlyStatusDiffers says whether obj is old but for its status (and the
// resourceVersion the write moves on): the fake client's status writes reach the
// tracker so, its updates with the stored status.
func onlyStatusDiffers(obj, old client.Object) bool {
	c := obj.DeepCopyObject().(client.Object)
	copyStatus(c, old)
	c.SetResourceVersion(old.GetResourceVersion())
	c.SetManagedFields(old.GetManagedFields())
	c.GetObjectKind().SetGroupVersionKind(old.GetObjectKind().GroupVersionKind())
	return apiequality.Semantic.DeepEqual(c, old)
}

// checkStatus is the status strategy's check of a write of obj's status over old's,
// for a schema without a rule at its root: everything but the status is the stored
// object's, so only the status can break a rule (ratcheting), and only rules within
// the status can look at it. The status is pruned and defaulted as the API server
// decodes it, into obj when that changes it.
func (c *crdValidators) checkStatus(ctx context.Context, memo *Verdicts, obj, old client.Object) field.ErrorList {
	path := field.NewPath("status")
	fv := statusField(obj)
	if !fv.IsValid() {
		return nil
	}
	data, err := json.Marshal(fv.Addr().Interface())
	if err != nil {
		return field.ErrorList{field.InternalError(path, err)}
	}
	var oldData []byte
	if c.statusCEL != nil {
		// a rule may compare the status with the stored one (oldSelf)
		if ofv := statusField(old); ofv.IsValid() {
			if oldData, err = json.Marshal(ofv.Addr().Interface()); err != nil {
				return field.ErrorList{field.InternalError(path, err)}
			}
		}
	}
	key := "status\x00" + string(data) + "\x00" + string(oldData)
	vd, ok := memo.recall(c, key)
	if !ok {
		if vd, err = c.judgeStatus(ctx, path, data, oldData); err != nil {
			return field.ErrorList{field.InternalError(path, err)}
		}
		memo.remember(c, key, vd)
	}
	if len(vd.errs) == 0 && vd.stored != nil {
		fv.Set(reflect.Zero(fv.Type()))
		if err := json.Unmarshal(vd.stored, fv.Addr().Interface()); err != nil {
			return field.ErrorList{field.InternalError(path, err)}
		}
	}
	return vd.errs
}

// judgeStatus is checkStatus's verdict on a status whose JSON data is (oldData: the
// stored status's, when a rule may look at it).
func (c *crdValidators) judgeStatus(ctx context.Context, path *field.Path, data, oldData []byte) (verdict, error) {
	var st, oldSt any
	if err := utiljson.Unmarshal(data, &st); err != nil {
		return verdict{}, err
	}
	if oldData != nil {
		if err := utiljson.Unmarshal(oldData, &oldSt); err != nil {
			return verdict{}, err
		}
	}
	if st == nil {
		return verdict{}, nil
	}
	pruned := structuralpruning.PruneWithOptions(st, c.statusSchema, false, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(st, c.statusSchema)
	changed := len(pruned) > 0
	if c.hasDefaults {
		before := runtime.DeepCopyJSONValue(st)
		structuraldefaulting.Default(st, c.statusSchema)
		changed = changed || !apiequality.Semantic.DeepEqual(before, st)
	}
	// Without the API server's ratcheting, which only drops errors in values the
	// write did not change: the stored status was checked when it was written, and
	// a value's errors are its own, so there are none to drop (and correlating old
	// and new values is most of a ratcheting check's cost).
	errs := apiservervalidation.ValidateCustomResource(path, st, c.status)
	if m, ok := st.(map[string]any); ok && c.root.props["status"].listed {
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(path, c.statusSchema, m)...)
	}
	if c.statusCEL != nil {
		if blocked := blockingError(errs); blocked != nil {
			errs = append(errs, blocked)
		} else {
			celErrs, _ := c.statusCEL.Validate(ctx, path, c.statusSchema, st, oldSt, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	vd := verdict{errs: errs}
	if len(errs) == 0 && changed {
		var err error
		if vd.stored, err = json.Marshal(st); err != nil {
			return verdict{}, err
		}
	}
	return vd, nil
}

// statusField is the Go field of obj's JSON status, or the zero Value.
func statusField(obj client.Object) reflect.Value {
	v := reflect.ValueOf(obj).Elem()
	if v.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	for _, f := range jsonFields(v.Type()) {
		if f.name == "status" {
			return v.Field(f.index)
		}
	}
	return reflect.Value{}
}
