package kubelet

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeSources serves ConfigMaps and Secrets from maps; it is test data, not a fake API server.
type fakeSources struct {
	configMaps map[string]map[string]string
	secrets    map[string]map[string]string
	token      string
	err        error
}

func (f fakeSources) configMap(name string) (map[string]string, bool, error) {
	data, ok := f.configMaps[name]
	return data, ok, f.err
}

func (f fakeSources) secret(name string) (map[string]string, bool, error) {
	data, ok := f.secrets[name]
	return data, ok, f.err
}

func (f fakeSources) serviceAccountToken(string, *int64) (string, error) { return f.token, f.err }

func envPod() (*corev1.Pod, *corev1.Container) {
	pod := podOf()
	pod.Labels = map[string]string{"app": "web"}
	pod.Spec.ServiceAccountName = "builder"
	pod.Spec.Containers = []corev1.Container{{
		Name:  "main",
		Image: "x",
		Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
		},
	}}
	return pod, &pod.Spec.Containers[0]
}

var testAddr = podAddressing{podIP: "10.244.0.9", hostIP: "127.0.1.1"}

func TestEnvironmentOrderAndExpansion(t *testing.T) {
	pod, c := envPod()
	optional := true
	c.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
		{Prefix: "DB_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}},
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: &optional}},
	}
	c.Env = []corev1.EnvVar{
		{Name: "GREETING", Value: "hello $(NAME) from $(POD_NAME)"},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "LATE", Value: "$(POD_NAME) $$(NAME) $(UNDEFINED)"},
		{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
		{Name: "SA", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
		{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
		{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "level"}}},
		{Name: "PATH", Value: "/opt/bin:$(PATH)"},
	}
	src := fakeSources{
		configMaps: map[string]map[string]string{"settings": {"NAME": "world", "level": "debug", "not-a-var-name!": "skipped"}},
		secrets:    map[string]map[string]string{"db": {"PASSWORD": "s3cret"}},
	}
	env, err := containerEnv(pod, c, []envVar{{"PATH", "/usr/bin"}, {"HOME", "/root"}}, testAddr, nodeCapacity(), src)
	if err != nil {
		t.Fatal(err)
	}
	got := env.List()
	want := []string{
		"PATH=/opt/bin:/usr/bin", "HOME=/root", "NAME=world", "level=debug", "DB_PASSWORD=s3cret",
		"GREETING=hello world from $(POD_NAME)", // POD_NAME is defined after GREETING
		"POD_NAME=web", "LATE=web $(NAME) $(UNDEFINED)", "IP=10.244.0.9", "APP=web", "SA=builder", "MEM=64", "LEVEL=debug",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("environment:\n got %q\nwant %q", got, want)
	}
	c.Command = []string{"sh", "-c"}
	c.Args = []string{"echo $(GREETING) $$(HOME) $HOME"}
	argv, err := expandCommand(c, env)
	if err != nil || !slices.Equal(argv, []string{"sh", "-c", "echo hello world from $(POD_NAME) $(HOME) $HOME"}) {
		t.Fatalf("argv = %q, %v", argv, err)
	}
}

func TestEnvironmentErrors(t *testing.T) {
	pod, c := envPod()
	keyRef := func(name, key string, optional bool) corev1.EnvVar {
		return corev1.EnvVar{Name: "V", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: &optional}}}
	}
	src := fakeSources{secrets: map[string]map[string]string{"db": {"user": "u"}}}
	cases := []struct {
		env     corev1.EnvVar
		src     fakeSources
		wantErr string
	}{
		{keyRef("missing", "k", false), src, `secret "missing" not found`},
		{keyRef("db", "password", false), src, "couldn't find key password in Secret ns/db"},
		{keyRef("db", "password", true), src, ""},
		{keyRef("missing", "k", true), src, ""},
		{keyRef("db", "user", false), fakeSources{err: errors.New("connection refused")}, "connection refused"},
		{corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}}, src, "unsupported fieldPath"},
	}
	for _, tc := range cases {
		c.Env = []corev1.EnvVar{tc.env}
		_, err := containerEnv(pod, c, nil, testAddr, nodeCapacity(), tc.src)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.env.ValueFrom, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%+v: error %v, want %q", tc.env.ValueFrom, err, tc.wantErr)
		}
	}
	c.Env = nil
	c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}
	if _, err := containerEnv(pod, c, nil, testAddr, nodeCapacity(), src); err == nil || err.Error() != `configmap "gone" not found` {
		t.Errorf("envFrom of a missing ConfigMap: %v", err)
	}
}

func TestCommandWithoutEntrypoint(t *testing.T) {
	env := newOrderedEnv(nil)
	if _, err := expandCommand(&corev1.Container{Name: "c"}, env); err == nil || !strings.Contains(err.Error(), "no entrypoint") {
		t.Fatalf("no command and no args: %v", err)
	}
	argv, err := expandCommand(&corev1.Container{Args: []string{"python3", "-c", "print(1)"}}, env)
	if err != nil || !slices.Equal(argv, []string{"python3", "-c", "print(1)"}) {
		t.Fatalf("args alone are the command: %q %v", argv, err)
	}
	if _, err := expandCommand(&corev1.Container{Command: []string{" "}}, env); err == nil {
		t.Fatalf("a blank command must be rejected")
	}
}

func TestFieldRefsOfMetadata(t *testing.T) {
	pod, _ := envPod()
	pod.ObjectMeta = metav1.ObjectMeta{Name: "p", Namespace: "team", UID: "u-1", Annotations: map[string]string{"a": "b"}}
	for path, want := range map[string]string{
		"metadata.namespace":         "team",
		"metadata.uid":               "u-1",
		"metadata.annotations['a']":  "b",
		"spec.nodeName":              "devcluster-node-0",
		"status.hostIP":              "127.0.1.1",
		"metadata.annotations['no']": "",
	} {
		if got, err := fieldRefValue(pod, path, testAddr); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
}
