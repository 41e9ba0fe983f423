package kubelet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// logKubelet is a kubelet whose pod cache holds one pod with a log on disk.
func logKubelet(t *testing.T) *kubelet {
	t.Helper()
	k := newKubelet(Options{StateDir: t.TempDir(), Nodes: 2, LogServerAddressBase: "127.0.9.1"}, nil, nil)
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	pod := podOf(container("main"))
	if err := indexer.Add(pod); err != nil {
		t.Fatal(err)
	}
	k.pods = corelisters.NewPodLister(indexer)
	dir := podDir(k.opts.StateDir, pod)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.log"), []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

func get(t *testing.T, k *kubelet, path string) (int, string) {
	t.Helper()
	recorder := httptest.NewRecorder()
	k.serveKubeletAPI(recorder, httptest.NewRequest(http.MethodGet, path, nil))
	return recorder.Code, recorder.Body.String()
}

func TestContainerLogsEndpoint(t *testing.T) {
	k := logKubelet(t)
	cases := []struct {
		path string
		code int
		body string
	}{
		{"/containerLogs/ns/web/main", 200, "one\ntwo\nthree\n"},
		{"/containerLogs/ns/web/main?tailLines=2", 200, "two\nthree\n"},
		{"/containerLogs/ns/web/main?limitBytes=5", 200, "one\nt"},
		{"/containerLogs/ns/web/main?follow=true", 200, "one\ntwo\nthree\n"}, // the run has ended
		{"/containerLogs/ns/web/main?previous=true", 400, "previous terminated container"},
		{"/containerLogs/ns/web/main?tailLines=-1", 400, "tailLines"},
		{"/containerLogs/ns/web/nope", 404, `container "nope" not found`},
		{"/containerLogs/ns/absent/main", 404, "not found on this node"},
		{"/exec/ns/web/main", 501, "container logs only"},
		{"/healthz", 200, "ok"},
	}
	for _, c := range cases {
		code, body := get(t, k, c.path)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("GET %s = %d %q, want %d containing %q", c.path, code, body, c.code, c.body)
		}
	}
	if _, body := get(t, k, "/containerLogs/ns/web/main?limitBytes=5"); body != "one\nt" {
		t.Errorf("limitBytes must cut exactly: %q", body)
	}
}

func TestLogServerRequiresAClusterClientCertificate(t *testing.T) {
	k := logKubelet(t)
	caCert, err := selfSignedCertificate([]string{"127.0.0.1"}) // stands in for the cluster CA
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(caCert.Certificate[0])
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server, err := k.startLogServer(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // every node address answers on the one port
		address, _ := nodeAddress("127.0.9.1", i)
		conn, err := tls.Dial("tcp", address+":"+strconv.Itoa(int(server.port)), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test
		if err == nil {
			// TLS 1.3 reports a missing client certificate on the first read.
			_, err = io.ReadAll(conn)
			_ = conn.Close()
		}
		if err == nil {
			t.Fatalf("node %d's log server accepted a client without a certificate", i)
		}
	}
}
