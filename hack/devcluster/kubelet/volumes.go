package kubelet

// Volumes of really-run containers. Every volume a container mounts becomes a directory under
// the pod's directory (volumes/<name>), bind-mounted at its mountPath inside the container's
// namespace, so the pod's containers share it and other pods never see it:
//
//   - emptyDir: an empty directory, kept for the pod's lifetime;
//   - configMap, secret, downwardAPI and projected (including the service-account token volume
//     the API server injects): their files are written at container start;
//   - hostPath: the host path itself.
//
// Other volume types cannot work without storage and fail the container with a config error
// that names them. Which files a volume holds is a pure function of the volume and the objects
// it reads (volumeFiles), so it is tested without a cluster.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubernetes/pkg/api/v1/resource"
)

// volumeSources is what volume contents are read from.
type volumeSources interface {
	envSources
	// serviceAccountToken returns a token for the pod's service account.
	serviceAccountToken(audience string, expirationSeconds *int64) (string, error)
}

// volumeFile is one file of a volume, relative to its root.
type volumeFile struct {
	Path    string
	Content []byte
	Mode    os.FileMode
}

const defaultVolumeFileMode = 0o644

// volumeFiles lists the files of a configMap/secret/downwardAPI/projected volume; an error is a
// config error (a missing object or key that is not optional).
func volumeFiles(pod *corev1.Pod, v *corev1.Volume, addr podAddressing, allocatable corev1.ResourceList, src volumeSources) ([]volumeFile, error) {
	switch {
	case v.ConfigMap != nil:
		return keyFiles("configmap", v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional, src.configMap)
	case v.Secret != nil:
		return keyFiles("secret", v.Secret.SecretName, v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional, src.secret)
	case v.DownwardAPI != nil:
		return downwardFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode, addr, allocatable)
	case v.Projected != nil:
		return projectedFiles(pod, v.Projected, addr, allocatable, src)
	}
	return nil, nil
}

func fileMode(mode, fallback *int32) os.FileMode {
	switch {
	case mode != nil:
		return os.FileMode(*mode)
	case fallback != nil:
		return os.FileMode(*fallback)
	}
	return defaultVolumeFileMode
}

func keyFiles(kind, name string, items []corev1.KeyToPath, defaultMode *int32, optional *bool,
	read func(string) (map[string]string, bool, error),
) ([]volumeFile, error) {
	data, found, err := read(name)
	switch {
	case err != nil:
		return nil, err
	case !found && optional != nil && *optional:
		return nil, nil
	case !found:
		return nil, fmt.Errorf("%s %q not found", kind, name)
	}
	var files []volumeFile
	if len(items) == 0 {
		for _, key := range sortedKeys(data) {
			files = append(files, volumeFile{key, []byte(data[key]), fileMode(nil, defaultMode)})
		}
		return files, nil
	}
	for _, item := range items {
		value, ok := data[item.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("configured to use key %s of %s %s, which does not exist", item.Key, kind, name)
		}
		files = append(files, volumeFile{item.Path, []byte(value), fileMode(item.Mode, defaultMode)})
	}
	return files, nil
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defaultMode *int32, addr podAddressing, allocatable corev1.ResourceList) ([]volumeFile, error) {
	var files []volumeFile
	for _, item := range items {
		var value string
		var err error
		switch {
		case item.FieldRef != nil:
			value, err = fieldRefValue(pod, item.FieldRef.FieldPath, addr)
		case item.ResourceFieldRef != nil:
			value, err = resource.ExtractResourceValueByContainerNameAndNodeAllocatable(item.ResourceFieldRef, pod, item.ResourceFieldRef.ContainerName, allocatable)
		}
		if err != nil {
			return nil, fmt.Errorf("downward API file %s: %w", item.Path, err)
		}
		files = append(files, volumeFile{item.Path, []byte(value), fileMode(item.Mode, defaultMode)})
	}
	return files, nil
}

func projectedFiles(pod *corev1.Pod, p *corev1.ProjectedVolumeSource, addr podAddressing, allocatable corev1.ResourceList, src volumeSources) ([]volumeFile, error) {
	var files []volumeFile
	for _, source := range p.Sources {
		var part []volumeFile
		var err error
		switch {
		case source.ConfigMap != nil:
			part, err = keyFiles("configmap", source.ConfigMap.Name, source.ConfigMap.Items, p.DefaultMode, source.ConfigMap.Optional, src.configMap)
		case source.Secret != nil:
			part, err = keyFiles("secret", source.Secret.Name, source.Secret.Items, p.DefaultMode, source.Secret.Optional, src.secret)
		case source.DownwardAPI != nil:
			part, err = downwardFiles(pod, source.DownwardAPI.Items, p.DefaultMode, addr, allocatable)
		case source.ServiceAccountToken != nil:
			var token string
			token, err = src.serviceAccountToken(source.ServiceAccountToken.Audience, source.ServiceAccountToken.ExpirationSeconds)
			part = []volumeFile{{source.ServiceAccountToken.Path, []byte(token), fileMode(nil, p.DefaultMode)}}
		default:
			err = fmt.Errorf("this projected volume source is not supported by the devcluster")
		}
		if err != nil {
			return nil, err
		}
		files = append(files, part...)
	}
	return files, nil
}

// podVolumes prepares the volumes of one pod for its containers.
type podVolumes struct {
	pod         *corev1.Pod
	dir         string // the pod's directory
	addr        podAddressing
	allocatable corev1.ResourceList
	src         volumeSources
}

// mountsFor prepares the volumes the container mounts and returns their bind mounts.
func (pv podVolumes) mountsFor(c *corev1.Container) ([]bindMount, error) {
	var mounts []bindMount
	for _, vm := range c.VolumeMounts {
		idx := slices.IndexFunc(pv.pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if idx < 0 {
			return nil, fmt.Errorf("volume mount %q refers to no volume of the pod", vm.Name)
		}
		root, err := pv.prepare(&pv.pod.Spec.Volumes[idx])
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", vm.Name, err)
		}
		source := root
		if vm.SubPath != "" {
			if filepath.IsAbs(vm.SubPath) || slices.Contains(strings.Split(vm.SubPath, "/"), "..") {
				return nil, fmt.Errorf("volume mount %q: subPath %q must be a relative path without '..'", vm.Name, vm.SubPath)
			}
			source = filepath.Join(root, vm.SubPath)
		}
		info, err := os.Stat(source)
		if os.IsNotExist(err) {
			err = os.MkdirAll(source, 0o777)
			info, _ = os.Stat(source)
		}
		if err != nil {
			return nil, fmt.Errorf("volume mount %q: %w", vm.Name, err)
		}
		mounts = append(mounts, bindMount{Source: source, Target: vm.MountPath, File: info != nil && !info.IsDir(), ReadOnly: vm.ReadOnly})
	}
	return mounts, nil
}

// prepare creates a volume's directory (or finds its host path) and returns its root.
func (pv podVolumes) prepare(v *corev1.Volume) (string, error) {
	root := filepath.Join(pv.dir, "volumes", v.Name)
	switch {
	case v.EmptyDir != nil:
		if err := os.MkdirAll(root, 0o777); err != nil {
			return "", err
		}
		return root, os.Chmod(root, 0o777)
	case v.HostPath != nil:
		path := v.HostPath.Path
		if t := v.HostPath.Type; t != nil && *t == corev1.HostPathDirectoryOrCreate {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return "", err
			}
		}
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("host path %s: %w", path, err)
		}
		return path, nil
	case v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil:
		files, err := volumeFiles(pv.pod, v, pv.addr, pv.allocatable, pv.src)
		if err != nil {
			return "", err
		}
		return root, writeVolume(root, files)
	}
	return "", fmt.Errorf("this volume type is not supported by the devcluster (only emptyDir, hostPath, configMap, secret, downwardAPI and projected are)")
}

// writeVolume replaces the volume's files with the given ones.
func writeVolume(root string, files []volumeFile) error {
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		clean := filepath.Clean(f.Path)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("volume file path %q escapes the volume", f.Path)
		}
		path := filepath.Join(root, clean)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Content, f.Mode.Perm()); err != nil {
			return err
		}
	}
	return nil
}

// apiSources reads ConfigMaps, Secrets and tokens of one pod's namespace from the API server.
type apiSources struct {
	ctx    context.Context
	client kubernetes.Interface
	pod    *corev1.Pod
}

func (s apiSources) configMap(name string) (map[string]string, bool, error) {
	cm, err := s.client.CoreV1().ConfigMaps(s.pod.Namespace).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		return notFoundIsAbsent(err)
	}
	return mergedData(cm.BinaryData, cm.Data), true, nil
}

func (s apiSources) secret(name string) (map[string]string, bool, error) {
	secret, err := s.client.CoreV1().Secrets(s.pod.Namespace).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		return notFoundIsAbsent(err)
	}
	return mergedData(secret.Data, secret.StringData), true, nil
}

// notFoundIsAbsent turns a read error into the envSources answer: absent, or a real error.
func notFoundIsAbsent(err error) (map[string]string, bool, error) {
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	return nil, false, err
}

// mergedData joins an object's binary and text keys (text wins, as for Secret stringData).
func mergedData(binary map[string][]byte, text map[string]string) map[string]string {
	data := make(map[string]string, len(binary)+len(text))
	for k, v := range binary {
		data[k] = string(v)
	}
	for k, v := range text {
		data[k] = v
	}
	return data
}

func (s apiSources) serviceAccountToken(audience string, expirationSeconds *int64) (string, error) {
	account := s.pod.Spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: expirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: s.pod.Name, UID: s.pod.UID},
	}}
	if audience != "" {
		request.Spec.Audiences = []string{audience}
	}
	token, err := s.client.CoreV1().ServiceAccounts(s.pod.Namespace).CreateToken(s.ctx, account, request, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for service account %s: %w", account, err)
	}
	return token.Status.Token, nil
}
