// Package v1alpha1 is the schema of psp's machine-readable output: what
// `-o json` and `-o yaml` of check, explain, audit, lint, who-can, diff,
// generate --verify and migrate pss write,
// as kubectl writes objects: one object with apiVersion
// report.kube-psp.io/v1alpha1, a kind naming the report, its items in input
// order and, where the command counts, a summary after them. Keys are lower
// camel case; strings are written as they are (a file read from standard
// input is "<stdin>", not escaped). docs/output.md describes every field.
//
// The version says what may change: a field may be added to v1alpha1; a
// field is renamed or removed, or its meaning changed, only in a new
// version.
package v1alpha1
