// Package engine decides, for one pod admission request, what Kubernetes
// v1.24.17's PodSecurityPolicy admission plugin decided: which policy admits
// the pod, how that policy defaults (mutates) the pod, or why no policy does,
// with v1.24's exact error text.
//
// Everything that enforces or explains policies (the webhook, psp check,
// psp explain, cluster mode) calls Decide; PodSecurityPolicy logic lives only
// here. The engine is pure: it reads the compiled PolicySet, the request and
// the answers of an authorizer.Authorizer, and returns a Decision.
//
// Layout: decide.go is the selection loop of v1.24's admission.go;
// provider.go applies one policy to one pod in v1.24's order, using the
// controls registered in controls.go; each control (privileged.go,
// capabilities.go, volumes.go, ...) is one file with its defaults and checks.
// docs/engine.md walks through it.
package engine
