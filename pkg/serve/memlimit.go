package serve

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// MemoryLimitFraction is the share of the container's memory limit that
// psp serve gives the Go runtime as its soft limit: the Go runtime's
// guidance (https://go.dev/doc/gc-guide#Memory_limit) is to leave headroom
// below a hard limit for memory it does not manage (goroutine stacks, the
// binary, the kernel's page cache for the container), so the collector works
// harder before the kernel would kill the pod.
const MemoryLimitFraction = 0.9

// SoftMemoryLimit parses a container memory limit (a Kubernetes quantity
// such as "512Mi", or bytes as the downward API gives them) and returns the
// Go runtime soft limit, in bytes, to set for it: MemoryLimitFraction of it.
// An empty limit or "0" means none: 0, nil. It fails on a malformed or
// negative quantity.
func SoftMemoryLimit(limit string) (int64, error) {
	if limit == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(limit)
	if err != nil {
		return 0, fmt.Errorf("memory limit %q: %w", limit, err)
	}
	if q.Sign() < 0 {
		return 0, fmt.Errorf("memory limit %q: negative", limit)
	}
	return int64(float64(q.Value()) * MemoryLimitFraction), nil
}
