package kubelet

// The environment of a really-run container, built as the kubelet builds it: a base (what an
// image and the runtime would provide: PATH, HOME, HOSTNAME, the API server's address), then
// envFrom sources in order, then env entries in order; `$(VAR)` references in values, command and
// args expand against the variables defined so far (upstream's forked expansion code, imported).
// Lookups of ConfigMaps and Secrets go through an interface so the rules are tested without a
// cluster; a missing non-optional source is a config error, which the kubelet retries.

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/kubernetes/pkg/api/v1/resource"
	"k8s.io/kubernetes/pkg/fieldpath"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

// envSources reads the ConfigMaps and Secrets of the pod's namespace. found is false when the
// object does not exist; err is for anything else (the API being unreachable).
type envSources interface {
	configMap(name string) (data map[string]string, found bool, err error)
	secret(name string) (data map[string]string, found bool, err error)
}

// envVar is one name=value pair; order matters for expansion and is kept in the result.
type envVar struct {
	Name  string
	Value string
}

// orderedEnv is an environment that keeps first-definition order while later values win.
type orderedEnv struct {
	vars  []envVar
	index map[string]int
}

func newOrderedEnv(base []envVar) *orderedEnv {
	e := &orderedEnv{index: map[string]int{}}
	for _, v := range base {
		e.set(v.Name, v.Value)
	}
	return e
}

func (e *orderedEnv) set(name, value string) {
	if i, ok := e.index[name]; ok {
		e.vars[i].Value = value
		return
	}
	e.index[name] = len(e.vars)
	e.vars = append(e.vars, envVar{name, value})
}

func (e *orderedEnv) asMap() map[string]string {
	m := make(map[string]string, len(e.vars))
	for _, v := range e.vars {
		m[v.Name] = v.Value
	}
	return m
}

// List returns NAME=value strings for exec.
func (e *orderedEnv) List() []string {
	out := make([]string, len(e.vars))
	for i, v := range e.vars {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}

// podAddressing is what fieldRef status.* paths read.
type podAddressing struct {
	podIP  string
	hostIP string
}

// containerEnv builds the environment; an error is a config error with the kubelet's wording.
func containerEnv(pod *corev1.Pod, c *corev1.Container, base []envVar, addr podAddressing,
	allocatable corev1.ResourceList, src envSources,
) (*orderedEnv, error) {
	env := newOrderedEnv(base)
	for _, from := range c.EnvFrom {
		if err := addEnvFrom(env, from, src); err != nil {
			return nil, err
		}
	}
	for _, v := range c.Env {
		value, err := envValue(pod, c, v, addr, allocatable, env, src)
		if err != nil {
			return nil, err
		}
		env.set(v.Name, value)
	}
	return env, nil
}

func addEnvFrom(env *orderedEnv, from corev1.EnvFromSource, src envSources) error {
	var data map[string]string
	var found bool
	var err error
	var kind, name string
	optional := false
	switch {
	case from.ConfigMapRef != nil:
		kind, name = "configmap", from.ConfigMapRef.Name
		optional = from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional
		data, found, err = src.configMap(name)
	case from.SecretRef != nil:
		kind, name = "secret", from.SecretRef.Name
		optional = from.SecretRef.Optional != nil && *from.SecretRef.Optional
		data, found, err = src.secret(name)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	if !found {
		if optional {
			return nil
		}
		return fmt.Errorf("%s %q not found", kind, name)
	}
	for _, key := range sortedKeys(data) {
		// Keys that are not valid variable names are skipped, as upstream does.
		if name := from.Prefix + key; len(validation.IsEnvVarName(name)) == 0 {
			env.set(name, data[key])
		}
	}
	return nil
}

func envValue(pod *corev1.Pod, c *corev1.Container, v corev1.EnvVar, addr podAddressing,
	allocatable corev1.ResourceList, env *orderedEnv, src envSources,
) (string, error) {
	if v.ValueFrom == nil {
		return expansion.Expand(v.Value, expansion.MappingFuncFor(env.asMap())), nil
	}
	from := v.ValueFrom
	switch {
	case from.FieldRef != nil:
		return fieldRefValue(pod, from.FieldRef.FieldPath, addr)
	case from.ResourceFieldRef != nil:
		return resource.ExtractResourceValueByContainerNameAndNodeAllocatable(from.ResourceFieldRef, pod, c.Name, allocatable)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		return keyRefValue("ConfigMap", "configmap", ref.Name, ref.Key, ref.Optional, pod.Namespace, src.configMap)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		return keyRefValue("Secret", "secret", ref.Name, ref.Key, ref.Optional, pod.Namespace, src.secret)
	}
	return "", fmt.Errorf("environment variable %q: this kind of valueFrom is not supported by the devcluster", v.Name)
}

func keyRefValue(kind, lowerKind, name, key string, optional *bool, namespace string,
	read func(string) (map[string]string, bool, error),
) (string, error) {
	isOptional := optional != nil && *optional
	data, found, err := read(name)
	switch {
	case err != nil:
		return "", err
	case !found && isOptional:
		return "", nil
	case !found:
		return "", fmt.Errorf("%s %q not found", lowerKind, name)
	}
	value, ok := data[key]
	if !ok && !isOptional {
		return "", fmt.Errorf("couldn't find key %s in %s %s/%s", key, kind, namespace, name)
	}
	return value, nil
}

// fieldRefValue resolves the downward API paths the kubelet supports for env.
func fieldRefValue(pod *corev1.Pod, path string, addr podAddressing) (string, error) {
	switch path {
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return addr.hostIP, nil
	case "status.podIP", "status.podIPs":
		return addr.podIP, nil
	}
	return fieldpath.ExtractFieldPathAsString(pod, path)
}

// expandCommand is the container's argv: command then args, with $(VAR) references expanded.
// Without a command the args are the argv (we have no image entrypoint to prepend).
func expandCommand(c *corev1.Container, env *orderedEnv) ([]string, error) {
	if len(c.Command) == 0 && len(c.Args) == 0 {
		return nil, fmt.Errorf("the container has neither command nor args, and the devcluster does not run images, so there is no entrypoint to run")
	}
	mapping := expansion.MappingFuncFor(env.asMap())
	argv := make([]string, 0, len(c.Command)+len(c.Args))
	for _, part := range append(append([]string{}, c.Command...), c.Args...) {
		argv = append(argv, expansion.Expand(part, mapping))
	}
	if strings.TrimSpace(argv[0]) == "" {
		return nil, fmt.Errorf("the container's command is empty")
	}
	return argv, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
