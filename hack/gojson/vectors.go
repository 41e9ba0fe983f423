package main

// The vector maker. Each sample YAML is turned into exactly what Argo
// Rollouts would hash:
//
//  1. YAML to JSON with sigs.k8s.io/yaml (what kubectl does before sending);
//  2. through an untyped map and back (the API server stores custom resources
//     as unstructured JSON: keys sorted, numbers re-encoded as int64/float64);
//     the result is the "input" a Python client receives;
//  3. decoded into the typed struct with sigs.k8s.io/json's case-sensitive
//     decoder, which is what client-go's JSON serializer uses;
//  4. encoded with encoding/json.
//
// Samples under DIR/invalid must fail step 3; their error is recorded so the
// Python side can be checked to reject them too.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/rollouts/rollouts/hack/gojson/argo"
)

// A pod template vector: GoJSON is what Argo Rollouts v1.10 hashes (plain encoding/json
// with the k8s.io/api version it pins); LegacyJSON what releases up to 1.8 hashed.
type podVector struct {
	Name         string            `json:"name"`
	Input        json.RawMessage   `json:"input"`
	GoJSON       string            `json:"goJSON"`
	LegacyJSON   string            `json:"legacyJSON"`
	Hashes       map[string]string `json:"hashes"`
	LegacyHashes map[string]string `json:"legacyHashes"`
}

type stepVector struct {
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input"`
	GoJSON string          `json:"goJSON"`
	Hash   string          `json:"hash"`
}

type invalidVector struct {
	Name    string          `json:"name"`
	Input   json.RawMessage `json:"input"`
	GoError string          `json:"goError"`
}

type podVectorFile struct {
	Comment string          `json:"comment"`
	Vectors []podVector     `json:"vectors"`
	Invalid []invalidVector `json:"invalid"`
}

type stepVectorFile struct {
	Comment string          `json:"comment"`
	Vectors []stepVector    `json:"vectors"`
	Invalid []invalidVector `json:"invalid"`
}

// Known upstream values, checked on every run so a wrong legacy rule or
// step mirror cannot produce a self-consistent but wrong vector file.
var (
	// Argo Rollouts' utils/hash test pinned this value for its "red" template
	// as produced by controllers <= 1.8.x (the legacy form below).
	upstreamRedTemplate = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "red"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "red", Image: "red", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePath: corev1.TerminationMessagePathDefault,
			}},
			DNSPolicy:       corev1.DNSClusterFirst,
			RestartPolicy:   corev1.RestartPolicyAlways,
			SecurityContext: &corev1.PodSecurityContext{},
		},
	}
	upstreamRedHash = "7bb4fbc896"
	// Reference §0.5, verified against upstream unit tests.
	upstreamStepHashes = map[string]string{
		`[{"pause":{}}]`:              "6b9b86fbd5",
		`[{"pause":{}},{"pause":{}}]`: "79c9b9f6bf",
		`null`:                        "5ffbfbbd64",
	}
)

func hashBytes(b []byte, collisionCount *int32) string {
	h := fnv.New32a()
	h.Write(b)
	if collisionCount != nil {
		extra := make([]byte, 8)
		binary.LittleEndian.PutUint32(extra, uint32(*collisionCount))
		h.Write(extra)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Argo Rollouts up to 1.8 hashed the bytes encoding/json produced before
// apimachinery added omitzero to ObjectMeta.CreationTimestamp: a zero timestamp
// is written as null, in its field position, in every ObjectMeta of the
// template (the pod's and any ephemeral volume claim template's). v1.10 builds
// with k8s.io/api v0.34, where the null is gone; ReplicaSets made by the older
// releases are still found by this legacy hash. legacyType rebuilds a type with that one tag
// reverted (reflect.StructOf), so the legacy bytes still come from
// encoding/json rather than from editing JSON text.
var (
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
	legacyTypes    = map[reflect.Type]reflect.Type{}
)

func containsObjectMeta(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == objectMetaType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return containsObjectMeta(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if containsObjectMeta(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

func legacyType(t reflect.Type) reflect.Type {
	if lt, ok := legacyTypes[t]; ok {
		return lt
	}
	lt := t
	if containsObjectMeta(t, map[reflect.Type]bool{}) {
		switch t.Kind() {
		case reflect.Pointer:
			lt = reflect.PointerTo(legacyType(t.Elem()))
		case reflect.Slice:
			lt = reflect.SliceOf(legacyType(t.Elem()))
		case reflect.Map:
			lt = reflect.MapOf(t.Key(), legacyType(t.Elem()))
		case reflect.Struct:
			fields := make([]reflect.StructField, t.NumField())
			for i := range fields {
				f := t.Field(i)
				if t == objectMetaType && f.Name == "CreationTimestamp" {
					f.Tag = reflect.StructTag(strings.Replace(string(f.Tag), ",omitzero", "", 1))
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if f.Anonymous && name != "" {
					// encoding/json treats a tagged embedded struct as a plain member.
					f.Anonymous = false
				}
				f.Type = legacyType(f.Type)
				f.Index, f.Offset = nil, 0
				fields[i] = f
			}
			lt = reflect.StructOf(fields)
		}
	}
	legacyTypes[t] = lt
	return lt
}

// toLegacy copies src into the structurally identical legacy type.
func toLegacy(src reflect.Value, dst reflect.Type) reflect.Value {
	if src.Type() == dst {
		return src
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return reflect.Zero(dst)
		}
		out := reflect.New(dst.Elem())
		out.Elem().Set(toLegacy(src.Elem(), dst.Elem()))
		return out
	case reflect.Slice:
		if src.IsNil() {
			return reflect.Zero(dst)
		}
		out := reflect.MakeSlice(dst, src.Len(), src.Len())
		for i := range src.Len() {
			out.Index(i).Set(toLegacy(src.Index(i), dst.Elem()))
		}
		return out
	case reflect.Map:
		if src.IsNil() {
			return reflect.Zero(dst)
		}
		out := reflect.MakeMapWithSize(dst, src.Len())
		for it := src.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), toLegacy(it.Value(), dst.Elem()))
		}
		return out
	case reflect.Struct:
		out := reflect.New(dst).Elem()
		for i := range src.NumField() {
			out.Field(i).Set(toLegacy(src.Field(i), dst.Field(i).Type))
		}
		return out
	}
	panic(fmt.Sprintf("cannot convert %s to %s", src.Type(), dst))
}

func legacyTemplateJSON(t *corev1.PodTemplateSpec) ([]byte, error) {
	v := reflect.ValueOf(*t)
	return json.Marshal(toLegacy(v, legacyType(v.Type())).Interface())
}

func checkUpstreamVectors() error {
	b, err := legacyTemplateJSON(&upstreamRedTemplate)
	if err != nil {
		return err
	}
	if got := hashBytes(b, nil); got != upstreamRedHash {
		return fmt.Errorf("legacy template encoding gives %s for upstream's red template, want %s (%s)", got, upstreamRedHash, b)
	}
	for in, want := range upstreamStepHashes {
		var steps []argo.CanaryStep
		if err := kjson.UnmarshalCaseSensitivePreserveInts([]byte(in), &steps); err != nil {
			return err
		}
		out, err := json.Marshal(steps)
		if err != nil {
			return err
		}
		if got := hashBytes(out, nil); got != want {
			return fmt.Errorf("steps %s hash to %s, want %s", in, got, want)
		}
	}
	return nil
}

// apiServerJSON converts a YAML sample to the JSON a client reads back.
func apiServerJSON(path string) (json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	stored, err := apiServerRoundTrip(j)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return stored, nil
}

func samples(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(files)
	return files, err
}

func sampleName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".yaml")
}

func podVectors(dir string) (podVectorFile, error) {
	out := podVectorFile{Comment: generatedBy + " Pod template hash vectors; see hack/gojson/vectors.go for how input is derived."}
	if err := checkUpstreamVectors(); err != nil {
		return out, err
	}
	valid, err := samples(dir)
	if err != nil {
		return out, err
	}
	counts := map[string]*int32{"nil": nil, "0": new(int32(0)), "1": new(int32(1)), "5": new(int32(5)), "-1": new(int32(-1))}
	for _, path := range valid {
		input, err := apiServerJSON(path)
		if err != nil {
			return out, err
		}
		var tmpl corev1.PodTemplateSpec
		if err := kjson.UnmarshalCaseSensitivePreserveInts(input, &tmpl); err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		goJSON, err := json.Marshal(&tmpl)
		if err != nil {
			return out, err
		}
		legacyJSON, err := legacyTemplateJSON(&tmpl)
		if err != nil {
			return out, err
		}
		v := podVector{
			Name: sampleName(path), Input: input, GoJSON: string(goJSON), LegacyJSON: string(legacyJSON),
			Hashes: map[string]string{}, LegacyHashes: map[string]string{},
		}
		for label, count := range counts {
			v.Hashes[label] = hashBytes(goJSON, count)
			v.LegacyHashes[label] = hashBytes(legacyJSON, count)
		}
		out.Vectors = append(out.Vectors, v)
	}
	out.Invalid, err = invalidVectors(filepath.Join(dir, "invalid"), func(in []byte) error {
		var tmpl corev1.PodTemplateSpec
		return kjson.UnmarshalCaseSensitivePreserveInts(in, &tmpl)
	})
	return out, err
}

func stepVectors(dir string) (stepVectorFile, error) {
	out := stepVectorFile{Comment: generatedBy + " Canary step hash vectors; see hack/gojson/vectors.go for how input is derived."}
	if err := checkUpstreamVectors(); err != nil {
		return out, err
	}
	valid, err := samples(dir)
	if err != nil {
		return out, err
	}
	for _, path := range valid {
		input, err := apiServerJSON(path)
		if err != nil {
			return out, err
		}
		var steps []argo.CanaryStep
		if err := kjson.UnmarshalCaseSensitivePreserveInts(input, &steps); err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		goJSON, err := json.Marshal(steps)
		if err != nil {
			return out, err
		}
		out.Vectors = append(out.Vectors, stepVector{Name: sampleName(path), Input: input, GoJSON: string(goJSON), Hash: hashBytes(goJSON, nil)})
	}
	out.Invalid, err = invalidVectors(filepath.Join(dir, "invalid"), func(in []byte) error {
		var steps []argo.CanaryStep
		return kjson.UnmarshalCaseSensitivePreserveInts(in, &steps)
	})
	return out, err
}

func invalidVectors(dir string, decode func([]byte) error) ([]invalidVector, error) {
	files, err := samples(dir)
	if err != nil {
		return nil, err
	}
	out := []invalidVector{}
	for _, path := range files {
		input, err := apiServerJSON(path)
		if err != nil {
			return nil, err
		}
		decodeErr := decode(input)
		if decodeErr == nil {
			return nil, fmt.Errorf("%s: expected a decoding error, Go accepted it", path)
		}
		out = append(out, invalidVector{Name: sampleName(path), Input: input, GoError: decodeErr.Error()})
	}
	return out, nil
}
