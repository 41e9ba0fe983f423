package pki

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func paths(dir string) Paths {
	j := func(name string) string { return filepath.Join(dir, name) }
	return Paths{j("ca.crt"), j("ca.key"), j("s.crt"), j("s.key"), j("sa.key"), j("sa.pub"), j("k.crt"), j("k.key")}
}

var names = Names{DNS: []string{"localhost", "kubernetes.default.svc"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}

func TestEnsureCreatesAServingCertificateForEveryName(t *testing.T) {
	p := paths(t.TempDir())
	if err := Ensure(p, names, time.Now()); err != nil {
		t.Fatal(err)
	}
	ca, err := readCert(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := readCert(p.ServingCert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, host := range []string{"localhost", "kubernetes.default.svc", "127.0.0.1"} {
		if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	client, err := readCert(p.KubeletClientCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("kubelet client certificate: %v", err)
	}
	if info, _ := os.Stat(p.CAKey); info.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode %v", info.Mode())
	}
}

func TestEnsureKeepsValidFilesAndReplacesBadOnes(t *testing.T) {
	p := paths(t.TempDir())
	now := time.Now()
	if err := Ensure(p, names, now); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p.CACert)
	if err := Ensure(p, names, now); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p.CACert); !bytes.Equal(first, again) {
		t.Fatal("valid CA was regenerated")
	}
	wider := Names{DNS: append(names.DNS, "other.example"), IPs: names.IPs}
	if err := Ensure(p, wider, now); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p.CACert); bytes.Equal(first, again) {
		t.Fatal("certificate without the new name was kept")
	}
	if err := os.WriteFile(p.ServiceAccountKey, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(p, wider, now); err != nil {
		t.Fatal(err)
	}
	if _, err := readPEM(p.ServiceAccountKey); err != nil {
		t.Fatalf("corrupt key was kept: %v", err)
	}
}
