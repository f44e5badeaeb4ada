package engine

// FieldDecision is how kube-psp treats one field of the pod API: which
// control checks it, or why it needs none. Inventory covers every field of
// PodSpec, Container (and so EphemeralContainer), SecurityContext,
// PodSecurityContext, WindowsSecurityContextOptions and VolumeSource of the
// k8s.io/api release kube-psp is built with; a test fails when a new release
// adds a field nobody classified, so no field slips through unnoticed.
type FieldDecision struct {
	// Field is "Type.jsonName", e.g. "PodSpec.hostNetwork".
	Field string
	// Control names the controls that check the field; empty when none does.
	Control string
	// Note says what is checked, or why the field is harmless.
	Note string
	// After124 marks fields Kubernetes added after v1.24.
	After124 bool
}

// Inventory returns the classification of every pod field.
func Inventory() []FieldDecision {
	out := make([]FieldDecision, len(inventory))
	copy(out, inventory)
	return out
}

const (
	notSecurity   = "scheduling, lifecycle or metadata; grants no privilege on the node"
	volumeChecked = "volume type must be allowed by the policy's volumes"
)

var inventory = []FieldDecision{
	// PodSpec
	{"PodSpec.volumes", "volumes", "each volume's type, see VolumeSource", false},
	{"PodSpec.initContainers", "all container controls", "every init container (sidecars with restartPolicy: Always included) is checked like a container", false},
	{"PodSpec.containers", "all container controls", "every container is checked", false},
	{"PodSpec.ephemeralContainers", "all container controls", "checked on create and on the ephemeralcontainers subresource (kubectl debug), which v1.24 skipped", false},
	{"PodSpec.restartPolicy", "", notSecurity, false},
	{"PodSpec.terminationGracePeriodSeconds", "", notSecurity, false},
	{"PodSpec.activeDeadlineSeconds", "", notSecurity, false},
	{"PodSpec.dnsPolicy", "", "name resolution only", false},
	{"PodSpec.nodeSelector", "", notSecurity, false},
	{"PodSpec.serviceAccountName", "authorization", "the ServiceAccount whose `use` grants count", false},
	{"PodSpec.serviceAccount", "authorization", "deprecated alias of serviceAccountName: names the ServiceAccount when serviceAccountName is empty, as the apiserver reads it", false},
	{"PodSpec.automountServiceAccountToken", "", "API credentials, not node privilege; the token volume is a projected volume checked by volumes", false},
	{"PodSpec.nodeName", "", "binds to a node without the scheduler; no privilege on it (PSP never checked it)", false},
	{"PodSpec.hostNetwork", "hostNamespaces", "needs hostNetwork in the policy", false},
	{"PodSpec.hostPID", "hostNamespaces", "needs hostPID in the policy", false},
	{"PodSpec.hostIPC", "hostNamespaces", "needs hostIPC in the policy", false},
	{"PodSpec.shareProcessNamespace", "", "shares the PID namespace between the pod's own containers only", false},
	{"PodSpec.securityContext", "see PodSecurityContext", "", false},
	{"PodSpec.imagePullSecrets", "", notSecurity, false},
	{"PodSpec.hostname", "", notSecurity, false},
	{"PodSpec.subdomain", "", notSecurity, false},
	{"PodSpec.affinity", "", notSecurity, false},
	{"PodSpec.schedulerName", "", notSecurity, false},
	{"PodSpec.tolerations", "", notSecurity, false},
	{"PodSpec.hostAliases", "", "entries in the pod's own /etc/hosts", false},
	{"PodSpec.priorityClassName", "", notSecurity, false},
	{"PodSpec.priority", "", notSecurity, false},
	{"PodSpec.dnsConfig", "", "name resolution only", false},
	{"PodSpec.readinessGates", "", notSecurity, false},
	{"PodSpec.runtimeClassName", "runtimeClass", "allowed runtime classes and default", false},
	{"PodSpec.enableServiceLinks", "", notSecurity, false},
	{"PodSpec.preemptionPolicy", "", notSecurity, false},
	{"PodSpec.overhead", "", "resource accounting", false},
	{"PodSpec.topologySpreadConstraints", "", notSecurity, false},
	{"PodSpec.setHostnameAsFQDN", "", notSecurity, false},
	{"PodSpec.os", "seccomp, AppArmor", "declares the OS the pod needs; Windows privilege is governed by hostProcess. On a Windows pod the seccomp and AppArmor defaults are written as annotations only (the apiserver refuses the fields there) and the profiles its containers run with are not judged", true},
	{"PodSpec.hostUsers", "requireUserNamespace", "false runs the pod in a user namespace, which only lowers privilege; a policy.kube-psp.io/v1 policy may require it", true},
	{"PodSpec.schedulingGates", "", notSecurity, true},
	{"PodSpec.resourceClaims", "", "dynamic resource allocation: device access is granted by ResourceClaims and DRA's own admin-access controls, not by pod security (PSP never governed devices)", true},
	{"PodSpec.resources", "", "pod-level resource requests and limits", true},
	{"PodSpec.hostnameOverride", "", "the pod's own hostname; not the node's (hostNetwork is checked)", true},
	{"PodSpec.schedulingGroup", "", notSecurity, true},
	{"PodSpec.evictionResponders", "", notSecurity, true},

	// Container (EphemeralContainer has the same fields)
	{"Container.name", "", "names the container; keys its seccomp and AppArmor annotations", false},
	{"Container.image", "", "PSP, like kube-psp, does not judge images", false},
	{"Container.command", "", notSecurity, false},
	{"Container.args", "", notSecurity, false},
	{"Container.workingDir", "", notSecurity, false},
	{"Container.ports", "hostPorts", "each hostPort must be in the policy's ranges", false},
	{"Container.envFrom", "", notSecurity, false},
	{"Container.env", "", notSecurity, false},
	{"Container.resources", "", "resource accounting", false},
	{"Container.resizePolicy", "", "how resources are resized in place", true},
	{"Container.restartPolicy", "", "makes an init container a sidecar; it is checked like every init container", true},
	{"Container.restartPolicyRules", "", "when a container restarts", true},
	{"Container.volumeMounts", "allowedHostPaths", "mounts of read-only host paths must be read-only", false},
	{"Container.volumeDevices", "", "raw block devices of PersistentVolumeClaims, whose volume type is checked", false},
	{"Container.livenessProbe", "", notSecurity, false},
	{"Container.readinessProbe", "", notSecurity, false},
	{"Container.startupProbe", "", notSecurity, false},
	{"Container.lifecycle", "", notSecurity, false},
	{"Container.terminationMessagePath", "", notSecurity, false},
	{"Container.terminationMessagePolicy", "", notSecurity, false},
	{"Container.imagePullPolicy", "", notSecurity, false},
	{"Container.securityContext", "see SecurityContext", "", false},
	{"Container.stdin", "", notSecurity, false},
	{"Container.stdinOnce", "", notSecurity, false},
	{"Container.tty", "", notSecurity, false},

	// SecurityContext (containers)
	{"SecurityContext.capabilities", "capabilities", "adds allowed, required drops present; defaults", false},
	{"SecurityContext.privileged", "privileged", "", false},
	{"SecurityContext.seLinuxOptions", "seLinux", "", false},
	{"SecurityContext.windowsOptions", "see WindowsSecurityContextOptions", "", false},
	{"SecurityContext.runAsUser", "runAsUser", "", false},
	{"SecurityContext.runAsGroup", "runAsGroup", "", false},
	{"SecurityContext.runAsNonRoot", "runAsUser", "MustRunAsNonRoot", false},
	{"SecurityContext.readOnlyRootFilesystem", "readOnlyRootFilesystem", "", false},
	{"SecurityContext.allowPrivilegeEscalation", "allowPrivilegeEscalation", "", false},
	{"SecurityContext.procMount", "procMount", "must be in allowedProcMountTypes (default [Default]); the apiserver further requires hostUsers: false for Unmasked", false},
	{"SecurityContext.seccompProfile", "seccomp", "the profile the container runs with: its field, else the pod's (annotations ignored, as the v1.27+ kubelet); the admit phase copies a container annotation without it into it", false},
	{"SecurityContext.appArmorProfile", "appArmor", "one setting with the container's AppArmor annotation: same allow-list; the default is written to both; the field wins, as at runtime", true},

	// PodSecurityContext
	{"PodSecurityContext.seLinuxOptions", "seLinux", "", false},
	{"PodSecurityContext.windowsOptions", "see WindowsSecurityContextOptions", "", false},
	{"PodSecurityContext.runAsUser", "runAsUser", "inherited by containers", false},
	{"PodSecurityContext.runAsGroup", "runAsGroup", "inherited by containers", false},
	{"PodSecurityContext.runAsNonRoot", "runAsUser", "inherited by containers", false},
	{"PodSecurityContext.supplementalGroups", "supplementalGroups", "", false},
	{"PodSecurityContext.supplementalGroupsPolicy", "", "Strict only drops the image's /etc/group groups; Merge (the default) is v1.24's behaviour, whose image groups PSP never saw either", true},
	{"PodSecurityContext.fsGroup", "fsGroup", "", false},
	{"PodSecurityContext.sysctls", "sysctls", "", false},
	{"PodSecurityContext.fsGroupChangePolicy", "", "when volume ownership is changed to fsGroup, not to what", false},
	{"PodSecurityContext.seccompProfile", "seccomp", "the profile of containers without their own; the policy's default and the pod annotation are written to it in the admit phase; checked even where the pod annotation differs", false},
	{"PodSecurityContext.appArmorProfile", "appArmor", "the default for containers without their own profile; same allow-list as the annotations", true},
	{"PodSecurityContext.seLinuxChangePolicy", "", "how volumes are relabelled (mount option or recursively), not to which label", true},

	// WindowsSecurityContextOptions (pod and container windowsOptions)
	{"WindowsSecurityContextOptions.gmsaCredentialSpecName", "", "a Windows domain identity for the workload, not node privilege (PSP never checked it)", false},
	{"WindowsSecurityContextOptions.gmsaCredentialSpec", "", "as gmsaCredentialSpecName", false},
	{"WindowsSecurityContextOptions.runAsUserName", "", "a Windows user inside the container; PSP's runAsUser rules are Linux UIDs and never applied", false},
	{"WindowsSecurityContextOptions.hostProcess", "hostProcess", "a HostProcess container is a process on the node: needs a policy allowing privileged and hostNetwork", true},

	// VolumeSource: every type is checked by the volumes control.
	{"VolumeSource.hostPath", "volumes, allowedHostPaths", "type, path prefix, read-only mounts", false},
	{"VolumeSource.emptyDir", "volumes", volumeChecked, false},
	{"VolumeSource.gcePersistentDisk", "volumes", volumeChecked, false},
	{"VolumeSource.awsElasticBlockStore", "volumes", volumeChecked, false},
	{"VolumeSource.gitRepo", "volumes", volumeChecked, false},
	{"VolumeSource.secret", "volumes", volumeChecked, false},
	{"VolumeSource.nfs", "volumes", volumeChecked, false},
	{"VolumeSource.iscsi", "volumes", volumeChecked, false},
	{"VolumeSource.glusterfs", "volumes", volumeChecked, false},
	{"VolumeSource.persistentVolumeClaim", "volumes", volumeChecked, false},
	{"VolumeSource.rbd", "volumes", volumeChecked, false},
	{"VolumeSource.flexVolume", "volumes, allowedFlexVolumes", "type and driver", false},
	{"VolumeSource.cinder", "volumes", volumeChecked, false},
	{"VolumeSource.cephfs", "volumes", volumeChecked, false},
	{"VolumeSource.flocker", "volumes", volumeChecked, false},
	{"VolumeSource.downwardAPI", "volumes", volumeChecked, false},
	{"VolumeSource.fc", "volumes", volumeChecked, false},
	{"VolumeSource.azureFile", "volumes", volumeChecked, false},
	{"VolumeSource.configMap", "volumes", volumeChecked, false},
	{"VolumeSource.vsphereVolume", "volumes", volumeChecked, false},
	{"VolumeSource.quobyte", "volumes", volumeChecked, false},
	{"VolumeSource.azureDisk", "volumes", volumeChecked, false},
	{"VolumeSource.photonPersistentDisk", "volumes", volumeChecked, false},
	{"VolumeSource.projected", "volumes", "type; ServiceAccount token volumes ride on secret, as in v1.24", false},
	{"VolumeSource.portworxVolume", "volumes", volumeChecked, false},
	{"VolumeSource.scaleIO", "volumes", volumeChecked, false},
	{"VolumeSource.storageos", "volumes", volumeChecked, false},
	{"VolumeSource.csi", "volumes, allowedCSIDrivers", "type and driver", false},
	{"VolumeSource.ephemeral", "volumes", volumeChecked, false},
	{"VolumeSource.image", "volumes", "allowed by '*' or, in a policy.kube-psp.io/v1 policy, by listing image; a volume type this build does not know is allowed only by '*'", true},
}
