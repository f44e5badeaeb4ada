package serve

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// certificate serves the TLS certificate from files, reloading them when
// their contents change (cert-manager or a script rotating them), so
// rotation needs no restart. A pair that does not load keeps the last good.
type certificate struct {
	certFile, keyFile string
	log               *slog.Logger
	onReload          func(error)

	mu      sync.RWMutex
	current *tls.Certificate
	loaded  []byte // the files' contents at the last successful load
}

func newCertificate(certFile, keyFile string, log *slog.Logger, onReload func(error)) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile, log: log, onReload: onReload}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload loads the pair if its contents changed.
func (c *certificate) reload() error {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return fmt.Errorf("reading TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return fmt.Errorf("reading TLS private key: %w", err)
	}
	contents := append(append([]byte{}, certPEM...), keyPEM...)
	c.mu.RLock()
	same := bytes.Equal(contents, c.loaded)
	c.mu.RUnlock()
	if same {
		return nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		err = fmt.Errorf("loading TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
		if c.onReload != nil {
			c.onReload(err)
		}
		return err
	}
	c.mu.Lock()
	c.current, c.loaded = &pair, contents
	c.mu.Unlock()
	if c.onReload != nil {
		c.onReload(nil)
	}
	c.log.Info("TLS certificate loaded", "cert", c.certFile)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.current, nil
}

// WriteSelfSigned makes a CA and a serving certificate for 127.0.0.1,
// localhost and the given extra names, valid for a year, and writes
// ca.crt, tls.crt and tls.key into dir, replacing what is there. It is for
// tests; --dev uses DevCertificate, which never replaces.
func WriteSelfSigned(dir string, names ...string) (caFile, certFile, keyFile string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", err
	}
	files, err := selfSigned(dir, names)
	if err != nil {
		return "", "", "", err
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return "", "", "", err
		}
	}
	return files[0].path, files[1].path, files[2].path, nil
}

// DevCertificate returns the CA, certificate and key files of --dev in dir:
// the ones there if all three are, else new ones (see WriteSelfSigned).
// Files are never replaced: a running server reloads its certificate from
// them, and every caBundle copied from ca.crt would break. An existing set
// that cannot serve 127.0.0.1 now (expired, a key that does not match, not
// signed by ca.crt), or only part of a set, is an error that says to remove
// them. created reports that new files were written.
func DevCertificate(dir string) (caFile, certFile, keyFile string, created bool, err error) {
	caFile, certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	var present []string
	for _, f := range []string{caFile, certFile, keyFile} {
		if _, err := os.Stat(f); err == nil {
			present = append(present, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", "", false, err
		}
	}
	switch len(present) {
	case 3:
		if err := usableDevCertificate(caFile, certFile, keyFile); err != nil {
			return "", "", "", false, fmt.Errorf("%w; remove %s, %s and %s to make new ones (caBundle copies of the old CA then stop working)", err, caFile, certFile, keyFile)
		}
		return caFile, certFile, keyFile, false, nil
	case 0:
	default:
		return "", "", "", false, fmt.Errorf("%s holds %s but not all of ca.crt, tls.crt and tls.key; remove them to make a new set, or give --tls-cert-file and --tls-private-key-file", dir, strings.Join(present, " and "))
	}
	files, err := selfSigned(dir, nil)
	if err != nil {
		return "", "", "", false, err
	}
	var written []string
	for _, f := range files {
		// O_EXCL: another instance starting at the same moment does not
		// replace what this one wrote, nor the reverse.
		if err := writeExclusive(f.path, f.data, f.mode); err != nil {
			for _, w := range written {
				_ = os.Remove(w)
			}
			return "", "", "", false, err
		}
		written = append(written, f.path)
	}
	return caFile, certFile, keyFile, true, nil
}

// usableDevCertificate checks that the pair loads and is signed by the CA
// for 127.0.0.1, now.
func usableDevCertificate(caFile, certFile, keyFile string) error {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("%s: %w", certFile, err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
		return fmt.Errorf("%s cannot serve 127.0.0.1 with the CA %s: %w", certFile, caFile, err)
	}
	return nil
}

func writeExclusive(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	return f.Close()
}

type pemFile struct {
	path string
	data []byte
	mode os.FileMode
}

// selfSigned makes the PEM files of WriteSelfSigned: ca.crt, tls.crt,
// tls.key in dir, in that order.
func selfSigned(dir string, names []string) ([]pemFile, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-psp dev CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-psp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:    append([]string{"localhost"}, names...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return []pemFile{
		{filepath.Join(dir, "ca.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644},
		{filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644},
		{filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600},
	}, nil
}
