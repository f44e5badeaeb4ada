// Package webhook is kube-psp's admission webhook: the pod endpoints
// (/mutate, /validate) and the CRD's policy validation (/validate-policy).
//
//   - http.go: the one HTTP skeleton both serve through: read and check the
//     AdmissionReview, decide, recover a panic, count, answer.
//   - response.go: the constructors of every AdmissionResponse (allowed,
//     patched, denied, invalid, errored, with warnings).
//   - review.go: Reviewer turns a pod request into its response by asking
//     the engine; handler.go serves it with its metrics and log.
//   - policy.go: ReviewPolicy and PolicyHandler, the CRD's validation.
//   - patch.go: the JSON Patch from the pod as sent to the admitted pod.
//   - unknown.go: pod fields this build does not know.
//
// PodSecurityPolicy logic stays in the engine: this package maps its
// decisions to AdmissionReview responses.
package webhook
