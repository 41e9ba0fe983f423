// Package pki creates the devcluster's certificates and keys: a CA, the API server's serving
// certificate and its client certificate for kubelets (both signed by the CA), and the key pair
// that signs service-account tokens. ECDSA P-256 keeps
// generation instant; everything is written as PEM files the Kubernetes flags accept. Existing
// files are reused so a restarted cluster keeps working with kubeconfigs and tokens handed out
// before.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Paths says where each file goes.
type Paths struct {
	CACert, CAKey, ServingCert, ServingKey, ServiceAccountKey, ServiceAccountPub string
	KubeletClientCert, KubeletClientKey                                          string
}

// KubeletClientSubject is who the API server is when it calls a kubelet: a cluster admin, as
// kubeadm's apiserver-kubelet-client certificate.
var KubeletClientSubject = pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}}

// Names are the subject alternative names of the serving certificate.
type Names struct {
	DNS []string
	IPs []net.IP
}

// validity is long because the certificates live only as long as a throwaway cluster directory.
const validity = 10 * 365 * 24 * time.Hour

// Ensure reuses a complete, valid set of files whose serving certificate covers names, and
// otherwise generates all of them anew.
func Ensure(p Paths, names Names, now time.Time) error {
	if err := verify(p, names, now); err == nil {
		return nil
	}
	return generate(p, names, now)
}

func generate(p Paths, names Names, now time.Time) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "devcluster-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	servingKey, servingDER, err := leaf(caCert, caKey, now, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names.DNS,
		IPAddresses: names.IPs,
	})
	if err != nil {
		return err
	}
	clientKey, clientDER, err := leaf(caCert, caKey, now, &x509.Certificate{
		Subject:     KubeletClientSubject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	files := []pemFile{
		{p.CACert, "CERTIFICATE", caDER, 0o644},
		{p.ServingCert, "CERTIFICATE", servingDER, 0o644},
		{p.KubeletClientCert, "CERTIFICATE", clientDER, 0o644},
		{p.ServiceAccountPub, "PUBLIC KEY", saPub, 0o644},
	}
	for path, key := range map[string]*ecdsa.PrivateKey{
		p.CAKey: caKey, p.ServingKey: servingKey, p.KubeletClientKey: clientKey, p.ServiceAccountKey: saKey,
	} {
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		files = append(files, pemFile{path, "EC PRIVATE KEY", der, 0o600})
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der}), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// leaf signs template (subject, usages, names filled in by the caller) with the CA.
func leaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, template *x509.Certificate) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	template.SerialNumber = serial()
	template.NotBefore = now.Add(-time.Hour)
	template.NotAfter = now.Add(validity)
	template.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	return key, der, err
}

type pemFile struct {
	path, kind string
	der        []byte
	mode       os.FileMode
}

// verify checks the files exist, parse, chain to the CA, are in date and cover names.
func verify(p Paths, names Names, now time.Time) error {
	caCert, err := readCert(p.CACert)
	if err != nil {
		return err
	}
	serving, err := readCert(p.ServingCert)
	if err != nil {
		return err
	}
	if _, err := readCert(p.KubeletClientCert); err != nil {
		return err
	}
	for _, path := range []string{p.CAKey, p.ServingKey, p.KubeletClientKey, p.ServiceAccountKey, p.ServiceAccountPub} {
		if _, err := readPEM(path); err != nil {
			return err
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	hosts := append([]string{}, names.DNS...)
	for _, ip := range names.IPs {
		hosts = append(hosts, ip.String())
	}
	for _, host := range hosts {
		if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: now}); err != nil {
			return err
		}
	}
	return nil
}

func readPEM(path string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM data", path)
	}
	return block, nil
}

func readCert(path string) (*x509.Certificate, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if block.Type != "CERTIFICATE" {
		return nil, errors.New(path + ": not a certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}
