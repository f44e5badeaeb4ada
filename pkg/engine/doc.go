// Package engine decides, for one pod admission request, what Kubernetes
// v1.24.17's PodSecurityPolicy admission plugin decided: which policy admits
// the pod, how that policy defaults (mutates) the pod, or why no policy does,
// with v1.24's exact error text.
//
// Everything that enforces or explains policies (the webhook, psp check,
// psp explain, cluster mode) calls Decide, and every tool that asks what a
// PSP means (lint, who-can, can-i, convert, presets) asks this package;
// PodSecurityPolicy logic lives only here. The engine is pure: it reads the
// compiled PolicySet, the request and the answers of an
// authorizer.Authorizer, and returns a Decision.
//
// Layout:
//   - decide.go is the selection loop of v1.24's admission.go, and
//     useplan.go asks its `use` questions concurrently;
//   - use.go is what `use` of a policy means: the identities asked
//     (UseSubjects), the attributes and API groups (UseQuestions), the rule
//     a grant writes (UseRule), AuthorizeUse. Tools that list, lint, grant
//     or convert grants ask it;
//   - policyset.go defaults and validates policies (DefaultAndValidatePolicy,
//     the one place for it) and compiles them into a PolicySet;
//   - controls.go holds the provider, which applies one policy's controls
//     to one pod in v1.24's order; each control (privileged.go,
//     capabilities.go, volumes.go, ...) is one file with its defaults and
//     checks, and mutation.go records what a default changed;
//   - types.go has the Request, Decision and Attempt values; inventory.go
//     classifies every pod field; privileges.go, annotationnotes.go and
//     setfieldnotes.go describe policies and pods for tools.
//
// docs/engine.md walks through it.
package engine
