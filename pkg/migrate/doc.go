// Package migrate plans the move of namespaces from PodSecurityPolicy to
// Pod Security Admission (PSA): for each namespace, the most restrictive
// Pod Security Standards level that admits every pod as PodSecurityPolicy
// admits it today, the pods that pass that level only because a policy
// defaulted fields (PSA validates and never mutates), with the fields to
// write into their manifests, and the pods only privileged admits.
//
// PSP decisions come from pkg/check (the offline pod path and the engine);
// Pod Security Standards from k8s.io/pod-security-admission's policy
// evaluator, the code kube-apiserver's PodSecurity plugin runs. This
// package decides neither itself: it compares the two.
package migrate
