package sar

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestConfig(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	if a, err := DefaultConfig().Authorizer(cfg); err != nil || a != nil {
		t.Errorf("rbac mode: %v, %v; want no authorizer", a, err)
	}
	c := DefaultConfig()
	c.Mode = ModeSubjectAccessReview
	a, err := c.Authorizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sa, ok := a.(*Authorizer); !ok || sa.Concurrency() != DefaultOptions().Concurrency {
		t.Errorf("subjectaccessreview mode: %T", a)
	}
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Mode = "abac" }, `--authorization must be rbac or subjectaccessreview, not "abac"`},
		{func(c *Config) { c.TTL = -1 }, "--sar-cache-ttl and --sar-cache-size must not be negative"},
		{func(c *Config) { c.Timeout = 0 }, "--sar-timeout must be positive"},
		{func(c *Config) { c.Concurrency = 0 }, "--sar-concurrency, --sar-qps and --sar-burst must be positive"},
		{func(c *Config) { c.QPS = 0 }, "--sar-concurrency, --sar-qps and --sar-burst must be positive"},
	} {
		c := DefaultConfig()
		tc.change(&c)
		if _, err := c.Authorizer(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
