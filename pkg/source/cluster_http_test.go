package source

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
)

// TestSyncSaysWhatIsMissing reads from real HTTP servers on 127.0.0.1 that
// fail as clusters do: Sync ends at the first error, naming what is
// missing, well within its deadline, and the informers do not retry on.
func TestSyncSaysWhatIsMissing(t *testing.T) {
	cases := append(testutil.BrokenClusters(), testutil.BrokenCluster{Name: "no answer", Server: testutil.PoliciesNotAnswered, Says: "did not answer within 300ms (--request-timeout)"})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			clients, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: testutil.Kubeconfig(t, tc.Server(t)), RequestTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := NewCluster(clients.Kube, clients.Dynamic, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			start := time.Now()
			err = c.Sync(ctx)
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Sync took %s", elapsed)
			}
			if err == nil || !strings.Contains(err.Error(), tc.Says) {
				t.Errorf("Sync: %v\nwant %q", err, tc.Says)
			}
		})
	}
	t.Run("everything served", func(t *testing.T) {
		clients, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: testutil.Kubeconfig(t, testutil.NewAPIServer(t, nil).URL), RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := NewCluster(clients.Kube, clients.Dynamic, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err := c.Sync(ctx); err != nil || c.Current() == nil || c.NotReady() != nil {
			t.Errorf("Sync: %v, snapshot %v", err, c.Current())
		}
	})
}

// TestSyncDeadlineSaysWhatIsMissing: when the deadline comes first (a
// request timeout longer than the whole wait), the error names the
// resources still awaited and why the wait ended.
func TestSyncDeadlineSaysWhatIsMissing(t *testing.T) {
	server := testutil.NewAPIServer(t, map[string]http.HandlerFunc{testutil.PolicyPath: testutil.NoAnswer})
	clients, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: testutil.Kubeconfig(t, server.URL), RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errTestDeadline)
	defer cancel()
	c := NewCluster(clients.Kube, clients.Dynamic, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	err = c.Sync(ctx)
	want := "waiting for the apiserver's first answer on podsecuritypolicies.policy.kube-psp.io (gave up: the test's deadline)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Sync: %v\nwant %q", err, want)
	}
}

type testDeadline struct{}

func (testDeadline) Error() string { return "the test's deadline" }

var errTestDeadline error = testDeadline{}
