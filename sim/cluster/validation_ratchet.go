package cluster

import (
	"context"
	"math"
	"reflect"
	"strings"

	"aviary.dev/aviary/sim/apicheck"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/operation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Spared writes. The API server reports a validation error of an update only where
// the update changed the object (ratcheting), and most rules of a CRD schema judge a
// value by itself. So a write that changes only plain values (numbers, strings,
// booleans) whose schema asks nothing of them but what their Go type already
// guarantees, under nodes with no rule that looks at the values below (CEL rules,
// enums, uniqueness, ...), and that adds or drops no field, cannot be rejected, nor
// pruned or defaulted differently: the stored object was accepted, and nothing that
// could fail has changed. Such writes are most of a run's — a VirtualService's
// weights at every step, a Canary's weight and failed checks every tick — and a full
// check costs more than the rest of their tick, so the fast client spares them
// (metadata that changed is still checked); the others are checked in full. A test
// checks every spared write of every library scenario in full as well and requires
// the same verdict and the same stored object.

// goTypes are what has been learned of Go types (typeOf), each once per process:
// a CRD version keeps those of the objects written of it (crdValidators.goType).
type goTypes map[reflect.Type]*goType

// goType is how encoding/json encodes a Go type, as far as sparing goes.
type goType struct {
	kind reflect.Kind
	enc  encoding
	// fields are a struct's JSON fields; elem is a pointer's, slice's or map's
	// element type.
	fields []goField
	elem   *goType
}

type encoding int

const (
	plainEncoding  encoding = iota // by its kind
	protoValue                     // a protobuf message struct (its pointer is a proto.Message): jsonpb
	protoPointer                   // a pointer to one
	timeEncoding                   // metav1.Time: RFC 3339, or null when zero
	customEncoding                 // a MarshalJSON of its own, or []byte (base64)
)

type goField struct {
	index int
	// name is the JSON name; "" for an embedded struct whose fields are inlined.
	name string
	omit omission
	t    *goType
}

// omission is when encoding/json leaves a field out.
type omission int

const (
	never     omission = iota
	omitEmpty          // ",omitempty": false, 0, "", nil, empty slices and maps
	omitZero           // ",omitzero": the zero value
)

var (
	protoMessage  = reflect.TypeFor[proto.Message]()
	metaTime      = reflect.TypeFor[metav1.Time]()
	jsonMarshaler = reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()
)

// typeOf is what g knows of t, learned now if need be.
func (g goTypes) typeOf(t reflect.Type) *goType {
	if gt, ok := g[t]; ok {
		return gt
	}
	gt := &goType{kind: t.Kind()}
	g[t] = gt // before its fields: a type may hold itself
	switch {
	case t.Kind() == reflect.Pointer && t.Implements(protoMessage):
		gt.enc = protoPointer
	case t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(protoMessage):
		gt.enc = protoValue
	case t == metaTime:
		gt.enc = timeEncoding
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler),
		t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		gt.enc = customEncoding
	case t.Kind() == reflect.Struct:
		gt.fields = jsonFields(t)
		for i := range gt.fields {
			gt.fields[i].t = g.typeOf(t.Field(gt.fields[i].index).Type)
		}
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		gt.elem = g.typeOf(t.Elem())
	}
	return gt
}

// jsonFields are the fields of struct type t that encoding/json encodes.
func jsonFields(t reflect.Type) []goField {
	var out []goField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			out = append(out, goField{index: i})
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := goField{index: i, name: name}
		switch {
		case strings.Contains(","+opts+",", ",omitzero,"):
			f.omit = omitZero
		case strings.Contains(","+opts+",", ",omitempty,"):
			f.omit = omitEmpty
		}
		out = append(out, f)
	}
	return out
}

// mayReject says whether the API server could reject a write that turns old into
// new (values of one Go type) under schema s (nil: none), or prune or default it
// differently: false only when every difference is a spared one (see above).
func mayReject(s *schemaNode, gt *goType, old, new reflect.Value, omit omission) bool {
	switch gt.enc {
	case protoPointer:
		if old.IsNil() || new.IsNil() {
			return old.IsNil() != new.IsNil()
		}
		return protoMayReject(s, old.Interface().(proto.Message).ProtoReflect(), new.Interface().(proto.Message).ProtoReflect())
	case protoValue:
		if !old.CanAddr() || !new.CanAddr() {
			return true
		}
		return protoMayReject(s, old.Addr().Interface().(proto.Message).ProtoReflect(), new.Addr().Interface().(proto.Message).ProtoReflect())
	case timeEncoding:
		o, n := timeOf(old), timeOf(new)
		switch {
		case o.Equal(n):
			return false
		case o.IsZero() || n.IsZero():
			return true // null on one side, a value on the other
		}
		return s == nil || !plainLeaf(s, "string", "date-time") // RFC 3339 is a date-time
	case customEncoding:
		return !sameValue(old, new)
	}
	if omitted(gt, old, omit) != omitted(gt, new, omit) {
		return true // left out on one side only (fieldMayReject spares what it can)
	}
	switch gt.kind {
	case reflect.Pointer:
		if old.IsNil() || new.IsNil() {
			return old.IsNil() != new.IsNil() // a field appears or goes
		}
		return mayReject(s, gt.elem, old.Elem(), new.Elem(), never)
	case reflect.Struct:
		if s != nil && s.dependent {
			return !sameValue(old, new)
		}
		for _, f := range gt.fields {
			if fieldMayReject(s, f, old.Field(f.index), new.Field(f.index)) {
				return true
			}
		}
		return false
	case reflect.Slice:
		if old.Len() != new.Len() || old.IsNil() != new.IsNil() {
			return true
		}
		if s == nil || s.items == nil || s.dependent {
			return !sameValue(old, new)
		}
		for i := range old.Len() {
			if mayReject(s.items, gt.elem, old.Index(i), new.Index(i), never) {
				return true
			}
		}
		return false
	case reflect.Map:
		if old.Len() != new.Len() || old.IsNil() != new.IsNil() {
			return true
		}
		if s == nil || s.additional == nil || s.dependent {
			return !sameValue(old, new)
		}
		for it := old.MapRange(); it.Next(); {
			nv := new.MapIndex(it.Key())
			if !nv.IsValid() || mayReject(s.additional, gt.elem, it.Value(), nv, never) {
				return true
			}
		}
		return false
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Float32, reflect.Float64:
		return !old.Equal(new) && !leafOK(s, gt, new)
	}
	return !sameValue(old, new)
}

// leafOK says whether schema s (nil: none) admits every value of v's Go type that
// could be written in its place, or at least v itself: its JSON type is the
// schema's and the schema asks no more of it than what the Go type guarantees (an
// int32 is an int32, and an int64; a float64 is a double unless NaN or infinite),
// or than to be one of an enum's strings, which v is.
func leafOK(s *schemaNode, gt *goType, v reflect.Value) bool {
	if s == nil {
		return false
	}
	if gt.enc == timeEncoding {
		return plainLeaf(s, "string", "date-time") // RFC 3339 is a date-time
	}
	switch gt.kind {
	case reflect.String:
		return plainLeaf(s, "string", "") || s.enumHas(v.String())
	case reflect.Bool:
		return plainLeaf(s, "boolean", "")
	case reflect.Int, reflect.Int64, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return plainLeaf(s, "integer", "int64")
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return plainLeaf(s, "integer", "int32")
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		return !math.IsNaN(f) && !math.IsInf(f, 0) && plainLeaf(s, "number", "double")
	}
	return false
}

// enumHas says whether s is a string enum, and nothing else, with x among its values.
func (s *schemaNode) enumHas(x string) bool {
	if !s.enum {
		return false
	}
	for _, e := range s.s.ValueValidation.Enum {
		if e.Object == x {
			return true
		}
	}
	return false
}

// presenceSpared says whether field name of an object under schema parent (not
// value-dependent) may appear or go without a full check: nothing requires it or
// counts the fields, it has no default to fill in, and a new value is a leaf
// leafOK admits (present is false when the field goes).
func presenceSpared(parent *schemaNode, name string, gt *goType, v reflect.Value, present bool) bool {
	sub := parent.optional(name)
	return sub != nil && (!present || leafOK(sub, gt, v))
}

// optional is s's property name if it may appear or go without a full check (see
// presenceSpared), else nil.
func (s *schemaNode) optional(name string) *schemaNode {
	if s == nil || s.counted || s.required[name] {
		return nil
	}
	sub := s.props[name]
	if sub == nil || sub.s.Default.Object != nil {
		return nil
	}
	return sub
}

// fieldMayReject is mayReject for one JSON field of a struct under schema s.
func fieldMayReject(s *schemaNode, f goField, old, new reflect.Value) bool {
	if f.name == "" {
		return mayReject(s, f.t, old, new, never) // embedded: its fields are the struct's
	}
	var sub *schemaNode
	if s != nil {
		sub = s.props[f.name]
	}
	if sub == nil {
		// not in the schema (it would be pruned): spared only when unchanged
		return !sameValue(old, new)
	}
	if o, n := omitted(f.t, old, f.omit), omitted(f.t, new, f.omit); o != n {
		return !presenceSpared(s, f.name, f.t, new, o)
	}
	return mayReject(sub, f.t, old, new, f.omit)
}

// timeOf is the metav1.Time v holds, without a copy when v is addressable.
func timeOf(v reflect.Value) *metav1.Time {
	if v.CanAddr() {
		return v.Addr().Interface().(*metav1.Time)
	}
	t := v.Interface().(metav1.Time)
	return &t
}

// omitted says whether v, of Go type gt, is left out of a field with omission omit:
// by encoding/json, or as a null the API server drops (a zero metav1.Time).
func omitted(gt *goType, v reflect.Value, omit omission) bool {
	if gt.enc == timeEncoding {
		return timeOf(v).IsZero()
	}
	switch omit {
	case omitEmpty:
		return gt.kind != reflect.Struct && gt.kind != reflect.Array && v.IsZero()
	case omitZero:
		return v.IsZero()
	}
	return false
}

// protoMayReject is mayReject for two messages of one type, encoded as Istio
// encodes them (jsonpb: JSON names, zero values left out).
func protoMayReject(s *schemaNode, old, new protoreflect.Message) bool {
	if s == nil || s.dependent || strings.HasPrefix(string(old.Descriptor().FullName()), "google.protobuf.") {
		// well-known types are encoded as scalars by rules of their own
		return !proto.Equal(old.Interface(), new.Interface())
	}
	// the fields set on either side (Range visits only those: most of a message's
	// fields are not)
	rejects := false
	new.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !old.Has(fd) {
			// appears: a zero scalar is left out, spared as presenceSpared says
			rejects = fd.IsList() || fd.IsMap() || fd.Message() != nil || !protoPresenceSpared(s, fd, v, true)
		}
		return !rejects
	})
	if rejects {
		return true
	}
	old.Range(func(fd protoreflect.FieldDescriptor, ov protoreflect.Value) bool {
		if !new.Has(fd) {
			rejects = fd.IsList() || fd.IsMap() || fd.Message() != nil || !protoPresenceSpared(s, fd, ov, false)
		} else {
			rejects = protoFieldMayReject(s, fd, ov, new.Get(fd))
		}
		return !rejects
	})
	return rejects
}

// protoFieldMayReject compares field fd, set on both sides, of a message under s.
func protoFieldMayReject(s *schemaNode, fd protoreflect.FieldDescriptor, ov, nv protoreflect.Value) bool {
	p := s.props[fd.JSONName()]
	switch {
	case p == nil:
		return !nv.Equal(ov) // not in the schema (it would be pruned): spared only when unchanged
	case fd.IsList():
		ol, nl := ov.List(), nv.List()
		if ol.Len() != nl.Len() {
			return true
		}
		if p.items == nil || p.dependent {
			return !nv.Equal(ov)
		}
		for j := range ol.Len() {
			if protoValueMayReject(p.items, fd, ol.Get(j), nl.Get(j)) {
				return true
			}
		}
		return false
	case fd.IsMap():
		om, nm := ov.Map(), nv.Map()
		if om.Len() != nm.Len() {
			return true
		}
		if p.additional == nil || p.dependent {
			return !nv.Equal(ov)
		}
		rejects := false
		om.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			rejects = !nm.Has(k) || protoValueMayReject(p.additional, fd.MapValue(), v, nm.Get(k))
			return !rejects
		})
		return rejects
	}
	return protoValueMayReject(p, fd, ov, nv)
}

// protoValueMayReject compares one value of field fd (or of its list's or map's).
func protoValueMayReject(s *schemaNode, fd protoreflect.FieldDescriptor, old, new protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoMayReject(s, old.Message(), new.Message())
	}
	return !old.Equal(new) && !protoLeafOK(s, fd, new)
}

// protoLeafOK is leafOK for a scalar value of field fd, as jsonpb encodes it.
func protoLeafOK(s *schemaNode, fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return plainLeaf(s, "string", "") || s.enumHas(v.String())
	case protoreflect.BoolKind:
		return plainLeaf(s, "boolean", "")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return plainLeaf(s, "integer", "int32")
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return plainLeaf(s, "integer", "int64")
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		f := v.Float()
		return !math.IsNaN(f) && !math.IsInf(f, 0) && plainLeaf(s, "number", "double")
	}
	// 64-bit integers are strings in JSON, enums names, bytes base64: checked in full
	return false
}

// protoPresenceSpared is presenceSpared for scalar field fd of a message.
func protoPresenceSpared(parent *schemaNode, fd protoreflect.FieldDescriptor, v protoreflect.Value, present bool) bool {
	sub := parent.optional(fd.JSONName())
	return sub != nil && (!present || protoLeafOK(sub, fd, v))
}

// sameValue compares two values of one Go type as their JSON would compare:
// protobuf messages with proto.Equal (their Go structs hold internal state), the
// rest with apimachinery's semantic equality, or Go's where that cannot look inside
// (a struct with unexported fields): unequal then means only "perhaps changed".
func sameValue(a, b reflect.Value) (same bool) {
	t := a.Type()
	switch {
	case t.Implements(protoMessage):
		return proto.Equal(a.Interface().(proto.Message), b.Interface().(proto.Message))
	case reflect.PointerTo(t).Implements(protoMessage) && a.CanAddr() && b.CanAddr():
		return proto.Equal(a.Addr().Interface().(proto.Message), b.Addr().Interface().(proto.Message))
	}
	defer func() {
		if recover() != nil {
			same = reflect.DeepEqual(a.Interface(), b.Interface())
		}
	}()
	return apiequality.Semantic.DeepEqual(a.Interface(), b.Interface())
}

// plainLeaf says whether s asks of a value of JSON type typ no more than its type
// and format, which a Go value of that type always meets (guaranteed is the format
// its values always have; an int32 is also an int64).
func plainLeaf(s *schemaNode, typ, guaranteed string) bool {
	if s.s.Type != typ || !s.plain {
		return false
	}
	f := s.format
	return f == "" || f == guaranteed || f == "int64" && guaranteed == "int32"
}

// schemaNode is a node of a structural schema with its children by pointer (a
// Structural holds its properties by value, so that looking one up copies it) and
// what sparing asks of it, worked out once.
type schemaNode struct {
	s          *structuralschema.Structural
	props      map[string]*schemaNode
	items      *schemaNode
	additional *schemaNode
	// dependent: a rule of the node looks at the values under it (valueDependent).
	dependent bool
	// plain: the node asks of a value no more than its type and format; enum: no
	// more than to be one of its enum's strings.
	plain, enum bool
	format      string
	// required are the properties an object must have; counted, whether it must
	// have a number of them.
	required map[string]bool
	counted  bool
	// embedded: the node or one under it is an embedded object (whose metadata the
	// API server coerces and checks); listed: a set or map list (whose items it
	// checks for uniqueness). Without either, those checks find nothing.
	embedded, listed bool
}

func newSchemaNode(s *structuralschema.Structural) *schemaNode {
	n := &schemaNode{s: s, dependent: valueDependent(s), embedded: s.XEmbeddedResource,
		listed: s.XListType != nil && (*s.XListType == "set" || *s.XListType == "map")}
	child := func(c *structuralschema.Structural) *schemaNode {
		cn := newSchemaNode(c)
		n.embedded = n.embedded || cn.embedded
		n.listed = n.listed || cn.listed
		return cn
	}
	for k := range s.Properties {
		if n.props == nil {
			n.props = make(map[string]*schemaNode, len(s.Properties))
		}
		p := s.Properties[k]
		n.props[k] = child(&p)
	}
	if s.Items != nil {
		n.items = child(s.Items)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		n.additional = child(s.AdditionalProperties.Structural)
	}
	simple := !s.XIntOrString && !s.XPreserveUnknownFields && !s.XEmbeddedResource && len(s.XValidations) == 0
	v := s.ValueValidation
	if v == nil {
		n.plain = simple
		return n
	}
	n.format = v.Format
	for _, r := range v.Required {
		if n.required == nil {
			n.required = map[string]bool{}
		}
		n.required[r] = true
	}
	n.counted = v.MinProperties != nil || v.MaxProperties != nil
	rest := simple && v.Maximum == nil && v.Minimum == nil && v.MaxLength == nil && v.MinLength == nil && v.Pattern == "" &&
		v.MultipleOf == nil && len(v.AllOf) == 0 && len(v.OneOf) == 0 && len(v.AnyOf) == 0 && v.Not == nil
	n.plain = rest && len(v.Enum) == 0
	n.enum = rest && len(v.Enum) > 0 && s.Type == "string" && (v.Format == "")
	return n
}

// valueDependent says whether a rule of s itself looks at the values under it (so a
// changed value anywhere under s may break it): CEL rules, enums, uniqueness,
// combinations, embedded objects, and what is not a structural schema's plain
// object or list.
func valueDependent(s *structuralschema.Structural) bool {
	if len(s.XValidations) > 0 || s.XEmbeddedResource || s.XIntOrString || s.XPreserveUnknownFields ||
		(s.XListType != nil && *s.XListType != "atomic") {
		return true
	}
	v := s.ValueValidation
	return v != nil && (len(v.Enum) > 0 || v.UniqueItems || len(v.AllOf) > 0 || len(v.OneOf) > 0 || len(v.AnyOf) > 0 || v.Not != nil)
}

// spare says whether the write of obj over old (typed, of v's kind) may skip the
// full check (see above), and if so what the API server would still
// find: errors in the metadata, when the write changed it.
func (sc *serverChecks) spare(ctx context.Context, v *crdVersion, c *crdValidators, obj, old client.Object, status bool) (bool, field.ErrorList) {
	if c.root.dependent {
		return false, nil
	}
	o, n := reflect.ValueOf(old).Elem(), reflect.ValueOf(obj).Elem()
	if o.Type() != n.Type() || o.Kind() != reflect.Struct {
		return false, nil
	}
	rejects := false
	for _, f := range c.goType(o.Type()).fields {
		of, nf := o.Field(f.index), n.Field(f.index)
		switch {
		case f.name == "" || f.name == "apiVersion" || f.name == "kind" || f.name == "metadata":
			continue // TypeMeta (the kind's own); the metadata below
		case status && f.name != "status":
			continue // the stored object's, whatever obj says
		case !status && f.name == "status" && v.hasStatus:
			// an update keeps the stored status: spared only when it does already
			rejects = !sameValue(of, nf)
		default:
			rejects = fieldMayReject(c.root, f, of, nf)
		}
		if rejects {
			break
		}
	}
	if rejects {
		return false, nil
	}
	if status {
		return true, nil // the stored metadata, unchanged
	}
	meta, oldMeta := apicheck.ObjectMetaOf(obj), apicheck.ObjectMetaOf(old)
	if apicheck.SameMetadata(meta, oldMeta) {
		return true, nil
	}
	beta := utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta)
	return true, withoutNamespace(metavalidation.ValidateObjectMetaDeclaratively(ctx, operation.Update, meta, oldMeta, v.namespaced,
		nil, field.NewPath("metadata"), beta))
}
