package kubectlplugin

import "testing"

func TestInvokedAs(t *testing.T) {
	for argv0, want := range map[string]Invocation{
		"psp":                                 {Name: "psp"},
		"./bin/psp":                           {Name: "psp"},
		"/usr/local/bin/kubectl-psp":          {Name: "kubectl psp"},
		"kubectl-psp.exe":                     {Name: "kubectl psp"},
		"/usr/local/bin/kubectl_complete-psp": {Name: "kubectl psp", Complete: true},
		"kubectl-pspx":                        {Name: "psp"},
	} {
		if got := InvokedAs(argv0); got != want {
			t.Errorf("InvokedAs(%q) = %+v, want %+v", argv0, got, want)
		}
	}
}
