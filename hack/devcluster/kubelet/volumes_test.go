package kubelet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestVolumeFiles(t *testing.T) {
	pod, _ := envPod()
	mode := int32(0o600)
	optional := true
	src := fakeSources{
		configMaps: map[string]map[string]string{"cfg": {"a.yaml": "a: 1", "b.txt": "b"}},
		secrets:    map[string]map[string]string{"creds": {"token": "t"}},
		token:      "jwt",
	}
	cases := []struct {
		name    string
		volume  corev1.VolumeSource
		want    map[string]string
		wantErr string
	}{
		{"all keys", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			map[string]string{"a.yaml": "a: 1", "b.txt": "b"}, ""},
		{"items", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			Items: []corev1.KeyToPath{{Key: "b.txt", Path: "sub/b"}}}}, map[string]string{"sub/b": "b"}, ""},
		{"missing key", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			Items: []corev1.KeyToPath{{Key: "zzz", Path: "z"}}}}, nil, "key zzz"},
		{"missing configmap", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}, nil, `configmap "nope" not found`},
		{"optional missing", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: &optional}}, map[string]string{}, ""},
		{"secret", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: &mode}}, map[string]string{"token": "t"}, ""},
		{"downward", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		}}}, map[string]string{"labels": `app="web"`, "name": "web"}, ""},
		{"service account projection", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "a.yaml", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}, map[string]string{"token": "jwt", "ca.crt": "a: 1", "namespace": "ns"}, ""},
	}
	for _, c := range cases {
		files, err := volumeFiles(pod, &corev1.Volume{Name: "v", VolumeSource: c.volume}, testAddr, nodeCapacity(), src)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := map[string]string{}
		for _, f := range files {
			got[f.Path] = string(f.Content)
			if c.name == "secret" && f.Mode != 0o600 {
				t.Errorf("secret file mode %o", f.Mode)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: files %v, want %v", c.name, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got[k], v)
			}
		}
	}
}

func TestWriteVolumeRejectsEscapes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "vol")
	if err := writeVolume(root, []volumeFile{{Path: "../evil", Content: []byte("x"), Mode: 0o644}}); err == nil {
		t.Fatalf("a path leaving the volume must be rejected")
	}
	if err := writeVolume(root, []volumeFile{{Path: "a/b", Content: []byte("x"), Mode: 0o644}}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "a", "b")); err != nil || string(data) != "x" {
		t.Fatalf("file not written: %q %v", data, err)
	}
}

func TestMountsForRejectsBadVolumes(t *testing.T) {
	pod, c := envPod()
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "claim", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
	}
	pv := podVolumes{pod: pod, dir: t.TempDir(), addr: testAddr, allocatable: nodeCapacity(), src: fakeSources{}}
	for _, tc := range []struct {
		mount corev1.VolumeMount
		want  string
	}{
		{corev1.VolumeMount{Name: "nothing", MountPath: "/x"}, "refers to no volume"},
		{corev1.VolumeMount{Name: "claim", MountPath: "/x"}, "not supported by the devcluster"},
		{corev1.VolumeMount{Name: "work", MountPath: "/x", SubPath: "../up"}, "without '..'"},
	} {
		c.VolumeMounts = []corev1.VolumeMount{tc.mount}
		if _, err := pv.mountsFor(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.mount, err, tc.want)
		}
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/data", SubPath: "part"}}
	mounts, err := pv.mountsFor(c)
	if err != nil || len(mounts) != 1 || mounts[0].Target != "/data" || !strings.HasSuffix(mounts[0].Source, "volumes/work/part") || mounts[0].File {
		t.Fatalf("emptyDir subPath mount: %+v %v", mounts, err)
	}
}

func TestOrderMountsPutsParentsFirst(t *testing.T) {
	got := orderMounts([]bindMount{{Target: "/tmp/a/b"}, {Target: "/dev/termination-log"}, {Target: "/tmp"}, {Target: "/tmp/a"}})
	order := []string{}
	for _, m := range got {
		order = append(order, m.Target)
	}
	if strings.Join(order, ",") != "/tmp,/dev/termination-log,/tmp/a,/tmp/a/b" {
		t.Fatalf("order: %v", order)
	}
}
