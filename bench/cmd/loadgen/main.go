// Command loadgen drives an admission webhook (psp serve) over HTTPS on the
// loopback interface with a realistic mix of AdmissionReviews, at a fixed
// concurrency or a fixed rate, for a bounded time and number of requests,
// and reports throughput, latency percentiles and errors.
//
//	loadgen -url https://127.0.0.1:8443/mutate -ca ca.crt -concurrency 8 -duration 10s
//	loadgen -url https://127.0.0.1:8443/validate -ca ca.crt -rate 2000 -duration 10s
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	target := flag.String("url", "", "webhook endpoint, https://127.0.0.1:PORT/mutate or /validate (loopback only)")
	caFile := flag.String("ca", "", "CA bundle that signed the server certificate")
	concurrency := flag.Int("concurrency", 4, "parallel clients")
	rate := flag.Int("rate", 0, "requests per second in total; 0 sends as fast as the clients can")
	duration := flag.Duration("duration", 10*time.Second, "how long to send (at most 10m)")
	maxRequests := flag.Int("max-requests", 1_000_000, "stop after this many requests (at most 10,000,000)")
	row := flag.String("row", "", "print one Markdown table row labelled with this, instead of the report")
	flag.Parse()
	if err := run(*target, *caFile, *concurrency, *rate, *duration, *maxRequests, *row); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}

func run(target, caFile string, concurrency, rate int, duration time.Duration, maxRequests int, row string) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("-url must be an https URL, not %q", target)
	}
	// Load tests here only ever target this machine.
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("-url must point at the loopback interface, not %q", u.Hostname())
	}
	if concurrency < 1 || concurrency > 256 || duration <= 0 || duration > 10*time.Minute || maxRequests < 1 || maxRequests > 10_000_000 || rate < 0 {
		return fmt.Errorf("bounds: 1 <= -concurrency <= 256, 0 < -duration <= 10m, 1 <= -max-requests <= 10,000,000, -rate >= 0")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("-ca %s holds no certificate", caFile)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: concurrency}}
	bodies, names := mix()
	// Open the connections first, as an apiserver keeps its connections to
	// a webhook: TLS handshakes are not what is measured.
	if err := warmUp(client, target, bodies[0], concurrency); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}

	var ticks <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		ticks = t.C
	}
	deadline := time.Now().Add(duration)
	jobs := make(chan int)
	type result struct {
		latency time.Duration
		kind    int
		allowed bool
		err     error
	}
	results := make(chan result, 1024)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				kind := i % len(bodies)
				start := time.Now()
				allowed, err := send(client, target, bodies[kind])
				results <- result{time.Since(start), kind, allowed, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; i < maxRequests && time.Now().Before(deadline); i++ {
			if ticks != nil {
				<-ticks
			}
			jobs <- i
		}
	}()
	go func() { wg.Wait(); close(results) }()

	start := time.Now()
	var latencies []time.Duration
	errs := 0
	var firstErr error
	perKind := make([]int, len(bodies))
	allowedPerKind := make([]int, len(bodies))
	for r := range results {
		if r.err != nil {
			errs++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		latencies = append(latencies, r.latency)
		perKind[r.kind]++
		if r.allowed {
			allowedPerKind[r.kind]++
		}
	}
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	if row != "" {
		allowed := make([]string, len(names))
		for i := range names {
			allowed[i] = fmt.Sprintf("%d/%d", allowedPerKind[i], perKind[i])
		}
		fmt.Printf("| %s | %d | %s | %.0f | %s | %s | %s | %s | %d | %s |\n", row, concurrency, rateText(rate),
			float64(len(latencies))/elapsed.Seconds(), ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(pct(1)), errs, strings.Join(allowed, " "))
		return nil
	}
	fmt.Printf("target %s, concurrency %d, rate %s, %s\n", target, concurrency, rateText(rate), elapsed.Round(time.Millisecond))
	fmt.Printf("requests %d ok, %d errors; throughput %.0f req/s\n", len(latencies), errs, float64(len(latencies))/elapsed.Seconds())
	fmt.Printf("latency p50 %s p90 %s p99 %s max %s\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
	for i, n := range names {
		fmt.Printf("  %-28s %d (%d allowed)\n", n, perKind[i], allowedPerKind[i])
	}
	if firstErr != nil {
		fmt.Printf("first error: %v\n", firstErr)
	}
	return nil
}

func rateText(rate int) string {
	if rate == 0 {
		return "unbounded"
	}
	return fmt.Sprintf("%d/s", rate)
}

// warmUp sends one request per client at once, so that every client's
// connection is open before the measured run.
func warmUp(c *http.Client, target string, body []byte, concurrency int) error {
	errs := make(chan error, concurrency)
	for range concurrency {
		go func() {
			_, err := send(c, target, body)
			errs <- err
		}()
	}
	var first error
	for range concurrency {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// send posts one AdmissionReview and reports the webhook's decision.
func send(c *http.Client, target string, body []byte) (allowed bool, err error) {
	resp, err := c.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var out struct {
		Response *struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Response == nil || out.Response.UID != "load" {
		return false, fmt.Errorf("not an AdmissionReview answer: %s", data)
	}
	return out.Response.Allowed, nil
}

// mix is the request mix: pods a ReplicaSet controller creates (compliant
// and needing defaults), privileged pods (denied), and large pods of 20
// containers.
func mix() ([][]byte, []string) {
	container := func(name string, privileged bool) map[string]any {
		c := map[string]any{"name": name, "image": "registry.example.com/app:1", "ports": []any{map[string]any{"containerPort": 8080}},
			"env":       []any{map[string]any{"name": "MODE", "value": "prod"}},
			"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}}}
		if privileged {
			c["securityContext"] = map[string]any{"privileged": true}
		} else {
			c["securityContext"] = map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": map[string]any{"drop": []any{"ALL"}}}
		}
		return c
	}
	// A compliant pod satisfies both the restricted PodSecurityPolicy of
	// bench/testdata (hack/loadtest.sh serves it) and the Pod Security
	// Standards' restricted level, as it reaches the validating webhooks:
	// with the seccomp annotation the PSP's mutation adds.
	pod := func(containers []any, defaults bool) map[string]any {
		spec := map[string]any{"serviceAccountName": "default", "containers": containers}
		meta := map[string]any{"generateName": "web-6d4cf56db6-", "namespace": "team", "labels": map[string]any{"app": "web"}}
		if !defaults {
			spec["securityContext"] = map[string]any{"fsGroup": 1, "supplementalGroups": []any{1}, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
			meta["annotations"] = map[string]any{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}
		}
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
	}
	var large []any
	for i := range 20 {
		large = append(large, container(fmt.Sprintf("c%02d", i), false))
	}
	pods := []struct {
		name string
		pod  map[string]any
	}{
		{"deployment pod, compliant", pod([]any{container("web", false)}, false)},
		{"deployment pod, defaulted", pod([]any{map[string]any{"name": "web", "image": "nginx"}}, true)},
		{"privileged pod, denied", pod([]any{container("web", true)}, false)},
		{"20 containers", pod(large, false)},
	}
	var bodies [][]byte
	var names []string
	for _, p := range pods {
		review := map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
			"uid": "load", "kind": map[string]any{"group": "", "version": "v1", "kind": "Pod"},
			"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"}, "namespace": "team", "operation": "CREATE",
			"userInfo": map[string]any{"username": "system:serviceaccount:kube-system:replicaset-controller", "groups": []any{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
			"object":   p.pod}}
		data, _ := json.Marshal(review)
		bodies = append(bodies, data)
		names = append(names, p.name)
	}
	return bodies, names
}
