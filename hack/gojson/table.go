package main

// The table generator: walks Go types by reflection and records, for every
// struct reachable from a root, the fields encoding/json would emit, in the
// order it would emit them, with the options that decide omission. The
// Python encoder (rollouts/gojson) replays the table instead of guessing.
//
// The walk refuses anything the Python side does not reproduce (interfaces,
// arrays, ",string" fields, embedded pointers, name clashes between promoted
// fields, custom marshalers other than the known special types), so a new
// Kubernetes version that needs more fails here loudly instead of producing
// a table that silently hashes differently.

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
)

// typeDesc describes one Go type as encoding/json sees it.
type typeDesc struct {
	Kind   string    `json:"kind"`
	GoType string    `json:"goType,omitempty"`
	Bits   int       `json:"bits,omitempty"`
	Elem   *typeDesc `json:"elem,omitempty"`
	Struct string    `json:"struct,omitempty"`
	Codec  string    `json:"codec,omitempty"`
	// GoKind of a special type decides omitempty: slices are empty when
	// they have no bytes, structs never are.
	GoKind string `json:"goKind,omitempty"`
}

// fieldDesc is one JSON member of a struct, after promotion of embedded structs.
type fieldDesc struct {
	JSON      string   `json:"json"`
	Go        string   `json:"go"`
	Inline    []string `json:"inline,omitempty"`
	OmitEmpty bool     `json:"omitempty"`
	OmitZero  bool     `json:"omitzero"`
	ZeroBy    string   `json:"zeroBy,omitempty"`
	Type      typeDesc `json:"type"`
}

// typeTable is the file written for the Python side.
type typeTable struct {
	Comment string                 `json:"comment"`
	Modules map[string]string      `json:"modules"`
	Root    typeDesc               `json:"root"`
	Structs map[string][]fieldDesc `json:"structs"`
}

// specialCodecs are types with their own MarshalJSON/UnmarshalJSON; the
// Python side implements each codec by name.
var specialCodecs = map[string]string{
	"k8s.io/apimachinery/pkg/api/resource.Quantity":   "quantity",
	"k8s.io/apimachinery/pkg/apis/meta/v1.Time":       "time",
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": "intorstring",
	"encoding/json.RawMessage":                        "rawjson",
	// Kept as the raw JSON it was decoded from, like RawMessage.
	"k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1": "rawjson",
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroer        = reflect.TypeFor[interface{ IsZero() bool }]()
)

func typeName(t reflect.Type) string {
	if t.Name() == "" {
		return ""
	}
	return t.PkgPath() + "." + t.Name()
}

func hasCustomCodec(t reflect.Type) bool {
	for _, iface := range []reflect.Type{jsonMarshaler, jsonUnmarshaler, textMarshaler, textUnmarshaler} {
		if t.Implements(iface) || reflect.PointerTo(t).Implements(iface) {
			return true
		}
	}
	return false
}

type walker struct {
	structs map[string][]fieldDesc
	pending []reflect.Type
}

func (w *walker) describe(t reflect.Type) typeDesc {
	if t.Kind() == reflect.Pointer {
		// A pointer's method set includes its element's; describe the element.
		elem := w.describe(t.Elem())
		return typeDesc{Kind: "ptr", Elem: &elem}
	}
	name := typeName(t)
	if codec, ok := specialCodecs[name]; ok {
		return typeDesc{Kind: "special", GoType: name, Codec: codec, GoKind: t.Kind().String()}
	}
	if hasCustomCodec(t) {
		panic(fmt.Sprintf("%s has its own JSON or text codec; teach rollouts/gojson and specialCodecs about it", t))
	}
	d := typeDesc{GoType: name}
	switch t.Kind() {
	case reflect.Bool:
		d.Kind = "bool"
	case reflect.String:
		d.Kind = "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.Kind, d.Bits = "int", t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.Kind, d.Bits = "uint", t.Bits()
	case reflect.Float32, reflect.Float64:
		d.Kind, d.Bits = "float", t.Bits()
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			d.Kind = "bytes" // base64 in JSON
			break
		}
		elem := w.describe(t.Elem())
		d.Kind, d.Elem = "slice", &elem
	case reflect.Map:
		if t.Key().Kind() != reflect.String || hasCustomCodec(t.Key()) {
			panic(fmt.Sprintf("%s: only string-keyed maps are supported", t))
		}
		elem := w.describe(t.Elem())
		d.Kind, d.Elem = "map", &elem
	case reflect.Struct:
		if name == "" {
			panic(fmt.Sprintf("anonymous struct type %s is not supported", t))
		}
		d.Kind, d.Struct, d.GoType = "struct", name, ""
		if _, seen := w.structs[name]; !seen {
			w.structs[name] = nil // reserve; filled when popped
			w.pending = append(w.pending, t)
		}
	default:
		panic(fmt.Sprintf("%s: Go kind %s is not supported", t, t.Kind()))
	}
	return d
}

// fields flattens t the way encoding/json does when no promoted names clash:
// fields of untagged embedded structs take the embedded field's place, in
// declaration order.
func (w *walker) fields(t reflect.Type, inline []string) []fieldDesc {
	var out []fieldDesc
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				panic(fmt.Sprintf("%s.%s: embedded pointers are not supported", t, sf.Name))
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
			if name == "" && ft.Kind() == reflect.Struct && !hasCustomCodec(ft) {
				out = append(out, w.fields(ft, append(append([]string{}, inline...), sf.Name))...)
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		options := strings.Split(opts, ",")
		has := func(o string) bool {
			for _, x := range options {
				if x == o {
					return true
				}
			}
			return false
		}
		if has("string") {
			panic(fmt.Sprintf("%s.%s: the \",string\" option is not supported", t, sf.Name))
		}
		fd := fieldDesc{
			JSON:      name,
			Go:        sf.Name,
			Inline:    inline,
			OmitEmpty: has("omitempty"),
			OmitZero:  has("omitzero"),
			Type:      w.describe(sf.Type),
		}
		if fd.OmitZero && (sf.Type.Implements(isZeroer) || reflect.PointerTo(sf.Type).Implements(isZeroer)) {
			fd.ZeroBy = "IsZero"
		}
		out = append(out, fd)
	}
	return out
}

func buildTable(root reflect.Type, comment string) typeTable {
	w := &walker{structs: map[string][]fieldDesc{}}
	rootDesc := w.describe(root)
	for len(w.pending) > 0 {
		t := w.pending[0]
		w.pending = w.pending[1:]
		fields := w.fields(t, nil)
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.JSON] {
				panic(fmt.Sprintf("%s: promoted field name %q clashes; Go's dominance rules are not reproduced", t, f.JSON))
			}
			seen[f.JSON] = true
		}
		if fields == nil {
			fields = []fieldDesc{}
		}
		w.structs[typeName(t)] = fields
	}
	return typeTable{Comment: comment, Modules: moduleVersions(), Root: rootDesc, Structs: w.structs}
}

// moduleVersions records the versions of the modules whose types were walked.
func moduleVersions() map[string]string {
	out := map[string]string{}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		panic("no build info: run with `go run .` or a built binary")
	}
	for _, dep := range info.Deps {
		switch dep.Path {
		case "k8s.io/api", "k8s.io/apimachinery":
			out[dep.Path] = dep.Version
		}
	}
	return out
}
