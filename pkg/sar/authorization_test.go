package sar

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestAuthorization(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	if a, err := DefaultAuthorization().Authorizer(cfg); err != nil || a != nil {
		t.Errorf("rbac mode: %v, %v; want no authorizer", a, err)
	}
	c := DefaultAuthorization()
	c.Mode = ModeSubjectAccessReview
	a, err := c.Authorizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sa, ok := a.(*CachingAuthorizer); !ok || sa.Concurrency() != DefaultOptions().Concurrency {
		t.Errorf("subjectaccessreview mode: %T", a)
	}
	for _, tc := range []struct {
		change func(*Authorization)
		want   string
	}{
		{func(c *Authorization) { c.Mode = "abac" }, `--authorization must be rbac or subjectaccessreview, not "abac"`},
		{func(c *Authorization) { c.TTL = -1 }, "--sar-cache-ttl and --sar-cache-size must not be negative"},
		{func(c *Authorization) { c.Timeout = 0 }, "--sar-timeout must be positive"},
		{func(c *Authorization) { c.Concurrency = 0 }, "--sar-concurrency, --sar-qps and --sar-burst must be positive"},
		{func(c *Authorization) { c.QPS = 0 }, "--sar-concurrency, --sar-qps and --sar-burst must be positive"},
	} {
		c := DefaultAuthorization()
		tc.change(&c)
		if _, err := c.Authorizer(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
