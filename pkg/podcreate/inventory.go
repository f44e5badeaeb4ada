package podcreate

// Step is a stage of pod creation in a v1.37 apiserver or its controllers
// that may set pod fields before PodSecurityPolicy sees them.
type Step string

// The steps, in order.
const (
	// StepController is the workload's controller instantiating the template (FromWorkload).
	StepController Step = "controller"
	// StepDefaults is v1 defaulting on decoding (Default).
	StepDefaults Step = "v1 defaults"
	// StepServiceAccount is the ServiceAccount admission plugin (AdmitServiceAccount).
	StepServiceAccount Step = "ServiceAccount admission"
	// StepRegistry is the pod registry between mutating and validating
	// admission (PrepareForCreate): seen by the validate phase only.
	StepRegistry Step = "pod registry"
)

// FieldDefault says how one pod field that a PodSecurityPolicy control
// reads, or whose default changes a control's outcome, gets its value
// before PodSecurityPolicy sees the pod.
type FieldDefault struct {
	// Field names the field as engine.Inventory does: "Type.jsonName".
	Field string
	// Step sets the field; "" when no step does and the field is as written.
	Step Step
	// Default says what the step sets, and when.
	Default string
	// Source is the upstream v1.37 file and function the step follows.
	Source string
}

// Inventory returns every field of engine.Inventory that a control reads,
// with what sets it before PodSecurityPolicy, plus the fields a control
// does not read whose default changes an outcome (the serviceAccount
// alias). A field set by several steps appears once per step. A test keeps
// it complete against engine.Inventory and checks each default.
func Inventory() []FieldDefault {
	out := make([]FieldDefault, len(inventory))
	copy(out, inventory)
	return out
}

const (
	defaultsGo    = "pkg/apis/core/v1/defaults.go"
	saPluginGo    = "plugin/pkg/admission/serviceaccount/admission.go"
	strategyGo    = "pkg/registry/core/pod/strategy.go"
	statefulSetGo = "pkg/controller/statefulset/stateful_set_utils.go updateStorage"
)

var inventory = []FieldDefault{
	// PodSpec
	{"PodSpec.volumes", StepController, "a StatefulSet's volumeClaimTemplates become persistentVolumeClaim volumes", statefulSetGo},
	{"PodSpec.volumes", StepServiceAccount, "the projected token volume kube-api-access-*, unless automountServiceAccountToken is false (the pod's, else its ServiceAccount's)", saPluginGo + " mountServiceAccountToken"},
	{"PodSpec.initContainers", "", "", ""},
	{"PodSpec.containers", "", "", ""},
	{"PodSpec.ephemeralContainers", "", "", ""},
	{"PodSpec.serviceAccountName", StepDefaults, "from the deprecated serviceAccount when empty", defaultsGo + " SetDefaults_PodSpec"},
	{"PodSpec.serviceAccountName", StepServiceAccount, `"default" when empty`, saPluginGo + " Admit"},
	{"PodSpec.serviceAccount", StepDefaults, "set to serviceAccountName (the alias)", defaultsGo + " SetDefaults_PodSpec"},
	{"PodSpec.hostNetwork", "", "", ""},
	{"PodSpec.hostPID", "", "", ""},
	{"PodSpec.hostIPC", "", "", ""},
	{"PodSpec.securityContext", StepDefaults, "{} when absent", defaultsGo + " SetDefaults_PodSpec"},
	{"PodSpec.runtimeClassName", "", "", ""},
	{"PodSpec.hostUsers", "", "", ""},
	{"PodSpec.os", "", "", ""},

	// Container
	{"Container.ports", StepDefaults, "with hostNetwork, hostPort from containerPort when 0 (containers and init containers; on pods only, not templates)", defaultsGo + " SetDefaults_Pod"},
	{"Container.volumeMounts", StepServiceAccount, "a read-only mount of the token volume at /var/run/secrets/kubernetes.io/serviceaccount (init and regular containers without a mount there)", saPluginGo + " mountServiceAccountToken"},
	{"Container.securityContext", StepRegistry, "created to hold appArmorProfile, see SecurityContext.appArmorProfile", strategyGo + " applyAppArmorVersionSkew"},

	// SecurityContext: v1 has no defaults for any of these.
	{"SecurityContext.capabilities", "", "", ""},
	{"SecurityContext.privileged", "", "", ""},
	{"SecurityContext.seLinuxOptions", "", "", ""},
	{"SecurityContext.windowsOptions", "", "", ""},
	{"SecurityContext.runAsUser", "", "", ""},
	{"SecurityContext.runAsGroup", "", "", ""},
	{"SecurityContext.runAsNonRoot", "", "", ""},
	{"SecurityContext.readOnlyRootFilesystem", "", "", ""},
	{"SecurityContext.allowPrivilegeEscalation", "", "", ""},
	{"SecurityContext.procMount", "", "", ""},
	{"SecurityContext.seccompProfile", "", "", ""},
	{"SecurityContext.appArmorProfile", StepRegistry, "from the container's AppArmor annotation when unset and different from the pod's profile (not on Windows pods)", strategyGo + " applyAppArmorVersionSkew"},

	// PodSecurityContext: v1 has no defaults for any of these.
	{"PodSecurityContext.seLinuxOptions", "", "", ""},
	{"PodSecurityContext.windowsOptions", "", "", ""},
	{"PodSecurityContext.runAsUser", "", "", ""},
	{"PodSecurityContext.runAsGroup", "", "", ""},
	{"PodSecurityContext.runAsNonRoot", "", "", ""},
	{"PodSecurityContext.supplementalGroups", "", "", ""},
	{"PodSecurityContext.fsGroup", "", "", ""},
	{"PodSecurityContext.sysctls", "", "", ""},
	{"PodSecurityContext.seccompProfile", "", "", ""},
	{"PodSecurityContext.appArmorProfile", "", "", ""},

	{"WindowsSecurityContextOptions.hostProcess", "", "", ""},

	// VolumeSource: a volume's type is as written, but for a volume with none.
	{"VolumeSource.emptyDir", StepDefaults, "a volume without any source becomes emptyDir", defaultsGo + " SetDefaults_Volume"},
	{"VolumeSource.persistentVolumeClaim", StepController, "see PodSpec.volumes (StatefulSets)", statefulSetGo},
	{"VolumeSource.projected", StepServiceAccount, "see PodSpec.volumes (the token volume)", saPluginGo + " TokenVolumeSource"},
	{"VolumeSource.hostPath", "", "", ""},
	{"VolumeSource.gcePersistentDisk", "", "", ""},
	{"VolumeSource.awsElasticBlockStore", "", "", ""},
	{"VolumeSource.gitRepo", "", "", ""},
	{"VolumeSource.secret", "", "", ""},
	{"VolumeSource.nfs", "", "", ""},
	{"VolumeSource.iscsi", "", "", ""},
	{"VolumeSource.glusterfs", "", "", ""},
	{"VolumeSource.rbd", "", "", ""},
	{"VolumeSource.flexVolume", "", "", ""},
	{"VolumeSource.cinder", "", "", ""},
	{"VolumeSource.cephfs", "", "", ""},
	{"VolumeSource.flocker", "", "", ""},
	{"VolumeSource.downwardAPI", "", "", ""},
	{"VolumeSource.fc", "", "", ""},
	{"VolumeSource.azureFile", "", "", ""},
	{"VolumeSource.configMap", "", "", ""},
	{"VolumeSource.vsphereVolume", "", "", ""},
	{"VolumeSource.quobyte", "", "", ""},
	{"VolumeSource.azureDisk", "", "", ""},
	{"VolumeSource.photonPersistentDisk", "", "", ""},
	{"VolumeSource.portworxVolume", "", "", ""},
	{"VolumeSource.scaleIO", "", "", ""},
	{"VolumeSource.storageos", "", "", ""},
	{"VolumeSource.csi", "", "", ""},
	{"VolumeSource.ephemeral", "", "", ""},
	{"VolumeSource.image", "", "", ""},
}
