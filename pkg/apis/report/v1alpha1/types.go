package v1alpha1

// APIVersion is the apiVersion of every report.
const APIVersion = "report.kube-psp.io/v1alpha1"

// The kinds of the reports.
const (
	KindCheckReport   = "CheckReport"
	KindExplainReport = "ExplainReport"
	KindAuditReport   = "AuditReport"
	KindLintReport    = "LintReport"
	KindWhoCanReport  = "WhoCanReport"
	KindDiffReport    = "DiffReport"
	// KindVerifyReport is `psp generate --verify`'s report.
	KindVerifyReport = "VerifyReport"
	// KindPodSecurityMigration is `psp migrate pss`'s report.
	KindPodSecurityMigration = "PodSecurityMigration"
)

// TypeMeta names a report's schema, as metav1.TypeMeta names an object's.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// CheckReport is what `psp check`, `psp explain` (kind ExplainReport) and
// `psp audit` (kind AuditReport) write: one item per workload, in input
// order (audit: by namespace and name), then the counts.
type CheckReport struct {
	TypeMeta `json:",inline"`
	Items    []WorkloadVerdict `json:"items"`
	Summary  CheckSummary      `json:"summary"`
}

// CheckSummary counts the items of a CheckReport.
type CheckSummary struct {
	Workloads int `json:"workloads"`
	Admitted  int `json:"admitted"`
	Denied    int `json:"denied"`
	// Invalid are admitted by a policy, then refused by the apiserver's
	// validation.
	Invalid int `json:"invalid"`
	// KubeletRefused are admitted, but the kubelet would refuse a
	// container (check --images).
	KubeletRefused int `json:"kubeletRefused,omitempty"`
	// ImageUnread are admitted, but an image the kubelet's verdict needs
	// could not be read (check --images).
	ImageUnread int `json:"imageUnread,omitempty"`
	// Running are pods running against the policy that admitted them (audit).
	Running int `json:"running,omitempty"`
}

// Source is where an item was read: a file's document, or, for what is not
// in a file (a running pod, a cluster's workload), the object. Every report
// names a workload's origin with this one shape.
type Source struct {
	// File is the path as given, "<stdin>" for standard input.
	File string `json:"file,omitempty"`
	// Document is the 1-based index of the YAML document in the file.
	Document int `json:"document,omitempty"`
	// Line is the 1-based file line where the document starts.
	Line int `json:"line,omitempty"`
	// Item is the 1-based index in a List kind, when in one.
	Item int `json:"item,omitempty"`
	// Object names what is not in a file: "KIND/NAMESPACE/NAME" in
	// lower case, such as "pod/team/web".
	Object string `json:"object,omitempty"`
}

// WorkloadVerdict is what the cluster would do with one workload's pod.
type WorkloadVerdict struct {
	Source Source `json:"source"`
	// Kind, Namespace and Name name the object in the manifest.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Requester is the user that creates the pod: the controller's
	// ServiceAccount for a workload, --as for a bare Pod.
	Requester string `json:"requester"`
	// Admitted: both admission phases admit the pod.
	Admitted bool `json:"admitted"`
	// Invalid: admitted by Policy, then refused by the apiserver's
	// validation with Message.
	Invalid bool `json:"invalid,omitempty"`
	// DeniedIn is the phase that denied: "admit" or "validate".
	DeniedIn string `json:"deniedIn,omitempty"`
	// Policy is the admitting policy.
	Policy string `json:"policy,omitempty"`
	// Changes are the fields the admitting policy sets, without the
	// kubernetes.io/psp annotation.
	Changes []Change `json:"changes,omitempty"`
	// Message is the denial, exactly as the apiserver would return it.
	Message string `json:"message,omitempty"`
	// Notes name the fields behind annotations the message names.
	Notes []string `json:"notes,omitempty"`
	// Policies are every policy evaluated, in the order tried: for an
	// admitted pod the winner only, unless explained (explain).
	Policies []PolicyVerdict `json:"policies"`
	// Running are how the pod, as it runs now, breaks the policy that
	// admitted it (audit).
	Running []string `json:"running,omitempty"`
	// Grant is the smallest RBAC grant that would admit a denied pod.
	Grant *Grant `json:"grant,omitempty"`
	// PodFix is the smallest change to a denied pod for a policy the
	// requester may use.
	PodFix *PodFix `json:"podFix,omitempty"`
	// Kubelet is the kubelet's verdict on each container with an effective
	// runAsNonRoot (check --images).
	Kubelet []ContainerVerdict `json:"kubelet,omitempty"`
}

// Change is one field a policy sets.
type Change struct {
	// Field is the path in the v1 pod, e.g.
	// "spec.containers[0].securityContext.runAsNonRoot".
	Field string `json:"field"`
	// Value is the value set, as JSON.
	Value any `json:"value"`
}

// PolicyVerdict is what one policy did with the pod.
type PolicyVerdict struct {
	Name string `json:"name"`
	// Outcome is Admitted, AdmittedWithChanges, Invalid, WouldMutate,
	// Unauthorized or NotReached.
	Outcome string `json:"outcome"`
	// Usable: the requester or the pod's ServiceAccount may use it; Via
	// says who, through which binding.
	Usable  bool     `json:"usable"`
	Via     string   `json:"via,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Errors are the policy's field errors, in v1.24's words.
	Errors []string `json:"errors,omitempty"`
	// Chosen marks the admitting policy.
	Chosen bool `json:"chosen,omitempty"`
	// AuthorizationErrors are failures to ask whether the policy may be
	// used; it counted as not usable.
	AuthorizationErrors []string `json:"authorizationErrors,omitempty"`
}

// Grant is `use` of one policy, in the pod's namespace, for one subject.
type Grant struct {
	Policy    string `json:"policy"`
	Namespace string `json:"namespace"`
	// Subject is "ServiceAccount NS/NAME" or "User NAME".
	Subject string `json:"subject"`
	// NewServiceAccount is set when the pod runs as its namespace's
	// "default" ServiceAccount: granting that would let every pod of the
	// namespace that names no ServiceAccount use the policy, so the grant
	// is for a new ServiceAccount of this name (the workload's), which the
	// pod must name in spec.serviceAccountName; Subject is then that one.
	NewServiceAccount string `json:"newServiceAccount,omitempty"`
	// Allows is what the policy lets pods do that no policy the requester
	// or the ServiceAccount may use already does: the grant gives it to
	// every pod of the subject.
	Allows []string `json:"allows,omitempty"`
	// Commands are the kubectl commands that make the grant.
	Commands []string `json:"commands"`
}

// PodFix lists the errors to fix for one usable policy to admit the pod.
type PodFix struct {
	Policy string   `json:"policy"`
	Errors []string `json:"errors"`
}

// ContainerVerdict is the kubelet's verdict on one container.
type ContainerVerdict struct {
	// Field is the container's path in the pod, such as spec.containers[0]
	// or spec.initContainers[1].
	Field string `json:"field"`
	Name  string `json:"name"`
	Image string `json:"image"`
	// ImageUser is the User of the image's config, when the kubelet needs
	// it (runAsUser unset) and it could be read; "" is an unset user.
	ImageUser *string `json:"imageUser,omitempty"`
	// Refused says the kubelet would not start the container; Message is
	// its reason in the kubelet's words.
	Refused bool   `json:"refused"`
	Message string `json:"message,omitempty"`
	// Error says why the image's config could not be read: the container
	// is then neither refused nor known to start.
	Error string `json:"error,omitempty"`
}

// LintReport is what `psp lint` writes: the findings, most severe first.
type LintReport struct {
	TypeMeta `json:",inline"`
	Items    []Finding   `json:"items"`
	Summary  LintSummary `json:"summary"`
}

// Finding is one mistake lint found.
type Finding struct {
	// Rule is the rule's ID, as `psp lint --help` lists them.
	Rule string `json:"rule"`
	// Severity is "error", "warning" or "info".
	Severity string `json:"severity"`
	// Object is what the finding is about: `ClusterRole "psp:all"`.
	Object  string `json:"object"`
	Source  Source `json:"source"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// LintSummary counts the findings by severity.
type LintSummary struct {
	Findings int `json:"findings"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

// WhoCanReport is what `psp who-can use POLICY` writes: every subject RBAC
// lets use the policy, once per binding and API group.
type WhoCanReport struct {
	TypeMeta `json:",inline"`
	// Policy is the policy asked about; Namespace the namespace of the
	// pods, empty for every namespace.
	Policy    string         `json:"policy"`
	Namespace string         `json:"namespace,omitempty"`
	Items     []SubjectGrant `json:"items"`
}

// SubjectGrant is one subject that may use the policy.
type SubjectGrant struct {
	// Kind is User, Group or ServiceAccount.
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Binding is "ClusterRoleBinding/NAME" or "RoleBinding/NS/NAME".
	Binding string `json:"binding"`
	// Role is "ClusterRole/NAME" or "Role/NAME".
	Role string `json:"role"`
	// APIGroup is the group the grant is in: policy, extensions or
	// policy.kube-psp.io.
	APIGroup string `json:"apiGroup"`
}

// DiffReport is what `psp diff` writes: the two sets compared, one item per
// workload whose outcome changes, in input order, then the counts.
type DiffReport struct {
	TypeMeta `json:",inline"`
	// BeforeSet and AfterSet are the sets compared, as --before and
	// --after name them: the paths given, or ["cluster"] or ["none"].
	BeforeSet []string    `json:"beforeSet"`
	AfterSet  []string    `json:"afterSet"`
	Items     []DiffItem  `json:"items"`
	Summary   DiffSummary `json:"summary"`
}

// DiffSummary counts the workloads of a DiffReport by kind of change.
type DiffSummary struct {
	Workloads         int `json:"workloads"`
	Changed           int `json:"changed"`
	NewlyDenied       int `json:"newlyDenied"`
	NewlyAdmitted     int `json:"newlyAdmitted"`
	DifferentPolicy   int `json:"differentPolicy"`
	DifferentDefaults int `json:"differentDefaults"`
	Unchanged         int `json:"unchanged"`
}

// DiffItem is one workload whose outcome changes.
type DiffItem struct {
	Source    Source `json:"source"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Requester string `json:"requester"`
	// Change is NewlyDenied, NewlyAdmitted, DifferentPolicy or
	// DifferentDefaults.
	Change string `json:"change"`
	// Before and After are the verdicts with each set.
	Before DiffVerdict `json:"before"`
	After  DiffVerdict `json:"after"`
	// Defaults are the fields whose admitting policy's default differs,
	// when the workload is admitted before and after.
	Defaults []DefaultChange `json:"defaults,omitempty"`
}

// DiffVerdict is one side's verdict, with the keys of a CheckReport item;
// the policies, grant and pod fix are there for a denial only.
type DiffVerdict struct {
	Admitted bool            `json:"admitted"`
	Invalid  bool            `json:"invalid,omitempty"`
	DeniedIn string          `json:"deniedIn,omitempty"`
	Policy   string          `json:"policy,omitempty"`
	Changes  []Change        `json:"changes,omitempty"`
	Message  string          `json:"message,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Policies []PolicyVerdict `json:"policies,omitempty"`
	Grant    *Grant          `json:"grant,omitempty"`
	PodFix   *PodFix         `json:"podFix,omitempty"`
}

// DefaultChange is one field the admitting policy sets differently.
type DefaultChange struct {
	// Field is the path in the v1 pod.
	Field string `json:"field"`
	// Before and After are the values set, as JSON; null when the policy
	// does not set the field.
	Before any `json:"before"`
	After  any `json:"after"`
}

// VerifyReport is what `psp generate --verify` writes: whether each
// workload is admitted unchanged by the policy made for it, then the
// counts.
type VerifyReport struct {
	TypeMeta `json:",inline"`
	Items    []VerifyItem  `json:"items"`
	Summary  VerifySummary `json:"summary"`
}

// VerifyItem is the proof's verdict on one workload.
type VerifyItem struct {
	Source    Source `json:"source"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Expected is the policy made for the workload (it names the workload
	// in its kube-psp.io/generated-for annotation); empty when none does.
	Expected string `json:"expected,omitempty"`
	// Admitted is whether the cluster would admit the pod, by Policy.
	Admitted bool   `json:"admitted"`
	Policy   string `json:"policy,omitempty"`
	// Changes are the fields the admitting policy would set.
	Changes []Change `json:"changes,omitempty"`
	// Problem is why the workload is not admitted unchanged by the
	// expected policy (with none expected, by any), in one sentence;
	// empty when it is.
	Problem string `json:"problem,omitempty"`
	// Unowned: no policy is made for the workload; admitted unchanged, it
	// is only not refused, not proven admitted by its own policy.
	Unowned bool `json:"unowned,omitempty"`
}

// VerifySummary counts the items of a VerifyReport.
type VerifySummary struct {
	Workloads int `json:"workloads"`
	// Proven are admitted unchanged by their own policy.
	Proven int `json:"proven"`
	// Unowned are admitted unchanged with no own policy.
	Unowned int `json:"unowned"`
	// NotProven are the others.
	NotProven int `json:"notProven"`
}

// PodSecurityMigration is what `psp migrate pss` writes: for each
// namespace, the Pod Security Standards levels and labels that keep
// admitting its workloads, and how each workload fares.
type PodSecurityMigration struct {
	TypeMeta `json:",inline"`
	// PodSecurityStandardsVersion is the standards' version the levels are
	// judged by, as the *-version labels name it ("latest", "v1.37").
	PodSecurityStandardsVersion string               `json:"podSecurityStandardsVersion"`
	Namespaces                  []NamespaceMigration `json:"namespaces"`
}

// NamespaceMigration is one namespace's proposed levels.
type NamespaceMigration struct {
	Name string `json:"name"`
	// Enforce is the most restrictive level that admits every workload of
	// the namespace; Warn and Audit the level one stricter, when there is
	// one ("privileged", "baseline" or "restricted").
	Enforce string `json:"enforce"`
	Warn    string `json:"warn,omitempty"`
	Audit   string `json:"audit,omitempty"`
	// Labels are the pod-security.kubernetes.io/ labels to set.
	Labels map[string]string `json:"labels"`
	// CurrentLabels are the namespace's pod-security.kubernetes.io/ labels
	// today, when known; Changes are the labels of Labels that differ from
	// them; TightensEnforceFrom is today's enforce level when Enforce is
	// stricter than it.
	CurrentLabels       map[string]string   `json:"currentLabels,omitempty"`
	Changes             map[string]string   `json:"changes,omitempty"`
	TightensEnforceFrom string              `json:"tightensEnforceFrom,omitempty"`
	Count               MigrationCount      `json:"count"`
	Workloads           []WorkloadMigration `json:"workloads"`
}

// MigrationCount counts a namespace's workloads.
type MigrationCount struct {
	Workloads int `json:"workloads"`
	// Denied are denied by PodSecurityPolicy today; they are judged as
	// written.
	Denied int `json:"deniedByPodSecurityPolicy"`
	// MutationDependent pass Enforce only with the defaults of the policy
	// that admits them.
	MutationDependent int `json:"mutationDependent"`
	// PrivilegedOnly need the privileged level.
	PrivilegedOnly int `json:"privilegedOnly"`
}

// WorkloadMigration is one workload: PodSecurityPolicy's verdict and the
// most restrictive level that admits its pod.
type WorkloadMigration struct {
	Source    Source `json:"source"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Admitted  bool   `json:"admitted"`
	Policy    string `json:"policy,omitempty"`
	// Message is PodSecurityPolicy's denial.
	Message string `json:"message,omitempty"`
	Level   string `json:"level,omitempty"`
	// StricterViolations are the checks failed at the level one stricter
	// than Level.
	StricterViolations []Violation `json:"stricterViolations,omitempty"`
	// JudgedAsRunning: the pod was judged as it runs (a live pod).
	JudgedAsRunning bool `json:"judgedAsRunning,omitempty"`
	// MutationDependent is set when the pod passes the namespace's Enforce
	// level only with its policy's defaults.
	MutationDependent *MutationDependence `json:"mutationDependent,omitempty"`
}

// Violation is one Pod Security Standards check a pod fails, in
// PodSecurity's words: reason "allowPrivilegeEscalation != false", detail
// `container "app" must set securityContext.allowPrivilegeEscalation=false`.
type Violation struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// MutationDependence is what PodSecurity would say of the pod without its
// policy's defaults, and the defaults to write into the manifest.
type MutationDependence struct {
	Violations []Violation `json:"violations"`
	// Denial is PodSecurity's message refusing the pod without them.
	Denial string          `json:"denial"`
	Fields []PolicyDefault `json:"fields"`
}

// PolicyDefault is one field the policy sets that the pod needs.
type PolicyDefault struct {
	// Field is the path in the pod; ManifestField the same in the
	// workload's manifest (spec.template.spec... for a Deployment).
	Field         string `json:"field"`
	ManifestField string `json:"manifestField"`
	Value         any    `json:"value"`
}
