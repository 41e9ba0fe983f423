package kubelet

// The kubelet's HTTPS endpoint, reduced to container logs so that `kubectl logs` and the pod log
// API work for really-run containers. The API server reaches a node at its InternalIP and the
// port published in status.daemonEndpoints; every node has its own loopback address and all
// listen on one port. The serving certificate is self-signed and made at start: the API server
// has no kubelet CA configured and so does not verify kubelet certificates, as upstream does in
// that configuration. Callers must present a client certificate signed by the cluster CA (the
// one in the kubeconfig), which the API server's kubelet-client certificate is, so other local
// users cannot read container logs through this port. Simulated containers write no logs; their
// log is empty.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// logServer is the listening endpoint of all nodes.
type logServer struct {
	port int32
}

// startLogServer listens on every node address with one shared port and serves until ctx ends.
func (k *kubelet) startLogServer(ctx context.Context, clientCAs *x509.CertPool) (*logServer, error) {
	addresses := make([]string, k.opts.Nodes)
	for i := range addresses {
		address, err := nodeAddress(k.opts.LogServerAddressBase, i)
		if err != nil {
			return nil, err
		}
		addresses[i] = address
	}
	cert, err := selfSignedCertificate(addresses)
	if err != nil {
		return nil, err
	}
	listeners, port, err := listenAll(addresses)
	if err != nil {
		return nil, err
	}
	server := &http.Server{
		Handler: http.HandlerFunc(k.serveKubeletAPI),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    clientCAs,
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	for _, l := range listeners {
		go func() { _ = server.Serve(tls.NewListener(l, server.TLSConfig)) }()
	}
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	return &logServer{port: int32(port)}, nil
}

// listenAll binds the same free port on every address, retrying when another program holds the
// port on one of them.
func listenAll(addresses []string) ([]net.Listener, int, error) {
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		first, err := net.Listen("tcp", net.JoinHostPort(addresses[0], "0"))
		if err != nil {
			return nil, 0, fmt.Errorf("listening on node address %s: %w", addresses[0], err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		listeners := []net.Listener{first}
		for _, address := range addresses[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(port)))
			if err != nil {
				lastErr = err
				break
			}
			listeners = append(listeners, l)
		}
		if len(listeners) == len(addresses) {
			return listeners, port, nil
		}
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	return nil, 0, fmt.Errorf("no port is free on all node addresses: %w", lastErr)
}

// clusterCA reads the CA that signs the cluster's client certificates from the kubeconfig.
func clusterCA(config *rest.Config) (*x509.CertPool, error) {
	data := config.TLSClientConfig.CAData
	if len(data) == 0 && config.TLSClientConfig.CAFile != "" {
		var err error
		if data, err = os.ReadFile(config.TLSClientConfig.CAFile); err != nil {
			return nil, fmt.Errorf("reading the cluster CA: %w", err)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("the kubeconfig names no cluster CA; the log server needs it to authenticate the API server")
	}
	return pool, nil
}

func selfSignedCertificate(addresses []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "devcluster-kubelet"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, a := range addresses {
		template.IPAddresses = append(template.IPAddresses, net.ParseIP(a))
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// serveKubeletAPI answers /containerLogs/<namespace>/<pod>/<container> and /healthz.
func (k *kubelet) serveKubeletAPI(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/healthz":
		_, _ = io.WriteString(w, "ok")
	case len(parts) == 4 && parts[0] == "containerLogs":
		k.serveLogs(w, r, parts[1], parts[2], parts[3])
	default:
		http.Error(w, fmt.Sprintf("the devcluster kubelet serves container logs only, not %s", r.URL.Path), http.StatusNotImplemented)
	}
}

// logQuery is the subset of the kubelet's log options the devcluster honours.
type logQuery struct {
	previous   bool
	follow     bool
	tailLines  int // -1: all
	limitBytes int64
}

func parseLogQuery(values map[string][]string) (logQuery, error) {
	q := logQuery{tailLines: -1}
	get := func(name string) string {
		if v := values[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var err error
	if v := get("previous"); v != "" {
		if q.previous, err = strconv.ParseBool(v); err != nil {
			return q, fmt.Errorf("previous=%q is not a boolean", v)
		}
	}
	if v := get("follow"); v != "" {
		if q.follow, err = strconv.ParseBool(v); err != nil {
			return q, fmt.Errorf("follow=%q is not a boolean", v)
		}
	}
	if v := get("tailLines"); v != "" {
		if q.tailLines, err = strconv.Atoi(v); err != nil || q.tailLines < 0 {
			return q, fmt.Errorf("tailLines=%q is not a non-negative integer", v)
		}
	}
	if v := get("limitBytes"); v != "" {
		if q.limitBytes, err = strconv.ParseInt(v, 10, 64); err != nil || q.limitBytes <= 0 {
			return q, fmt.Errorf("limitBytes=%q is not a positive integer", v)
		}
	}
	return q, nil
}

func (k *kubelet) serveLogs(w http.ResponseWriter, r *http.Request, namespace, name, container string) {
	query, err := parseLogQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, err := k.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		http.Error(w, fmt.Sprintf("pod %s/%s not found on this node", namespace, name), http.StatusNotFound)
		return
	}
	if err != nil || findContainer(pod, container) == nil {
		http.Error(w, fmt.Sprintf("container %q not found in pod %s/%s", container, namespace, name), http.StatusNotFound)
		return
	}
	files := filesOf(podDir(k.opts.StateDir, pod), container)
	path := files.log
	if query.previous {
		path = files.previousLog
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if query.previous {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", container, name), http.StatusBadRequest)
			return
		}
		data = nil
	} else if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if query.tailLines >= 0 {
		data = logTail(data, query.tailLines, len(data))
	}
	var out io.Writer = w
	limited := &limitedWriter{w: w, remaining: query.limitBytes}
	if query.limitBytes > 0 {
		out = limited
	}
	w.Header().Set("Content-Type", "text/plain")
	if _, err := out.Write(data); err != nil || !query.follow || query.previous {
		return
	}
	k.followLog(r.Context(), out, path, int64(len(data)), pod.UID, container)
}

// followLog streams what is appended to the log until the run ends or the client goes away.
func (k *kubelet) followLog(ctx context.Context, out io.Writer, path string, offset int64, uid types.UID, container string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return
	}
	reader := bufio.NewReader(f)
	flusher, _ := out.(http.Flusher)
	for {
		n, err := io.Copy(out, reader)
		if n > 0 && flusher != nil {
			flusher.Flush()
		}
		if err != nil {
			return
		}
		if !k.runtime.isRunning(uid, container) && n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// limitedWriter stops writing after limitBytes, as the kubelet's limitBytes option does.
type limitedWriter struct {
	w         io.Writer
	remaining int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.w.Write(p)
	l.remaining -= int64(n)
	return n, err
}
