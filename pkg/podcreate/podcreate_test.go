package podcreate

import (
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/internal/testutil"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// TestInventoryCoversEveryControlField is the guard: every pod field a
// control reads (engine.Inventory with a control) says what sets it before
// PodSecurityPolicy, and every entry names a field of engine.Inventory.
func TestInventoryCoversEveryControlField(t *testing.T) {
	known := map[string]bool{}
	for _, d := range engine.Inventory() {
		known[d.Field] = true
	}
	classified := map[string]bool{}
	steps := map[string]bool{}
	for _, d := range Inventory() {
		if !known[d.Field] {
			t.Errorf("%s is not a field of engine.Inventory", d.Field)
		}
		key := d.Field + "/" + string(d.Step)
		if steps[key] {
			t.Errorf("%s is listed twice", key)
		}
		steps[key] = true
		classified[d.Field] = true
		if (d.Step == "") != (d.Default == "" && d.Source == "") {
			t.Errorf("%s: a step needs a default and a source, and only a step has them: %+v", d.Field, d)
		}
	}
	for _, d := range engine.Inventory() {
		if d.Control != "" && !classified[d.Field] {
			t.Errorf("control %q reads %s: say in pkg/podcreate/inventory.go what sets it before PodSecurityPolicy (or that nothing does)", d.Control, d.Field)
		}
	}
}

func basePod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
			Containers:     []corev1.Container{{Name: "app", Image: "nginx"}},
		},
	}
}

// stepCase is one inventory default: from an input (a *corev1.Pod or a
// workload), through FromWorkload, Create and PrepareForCreate, holds must
// be true of the result and false of the input as written.
type stepCase struct {
	input func() metav1.Object
	holds func(*corev1.Pod) bool
}

func statefulSet() *appsv1.StatefulSet {
	p := basePod()
	p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, {Name: "cfg",
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "team"}, Spec: appsv1.StatefulSetSpec{
		ServiceName: "db-headless", Template: corev1.PodTemplateSpec{Spec: p.Spec},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}}}
}

func hasPVC(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
		return v.Name == "data" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "data-db-0"
	})
}

func hasTokenVolume(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == TokenVolumeName && v.Projected != nil })
}

var stepCases = map[string]stepCase{
	"PodSpec.volumes/controller":                      {func() metav1.Object { return statefulSet() }, hasPVC},
	"VolumeSource.persistentVolumeClaim/controller":   {func() metav1.Object { return statefulSet() }, hasPVC},
	"PodSpec.volumes/ServiceAccount admission":        {func() metav1.Object { return basePod() }, hasTokenVolume},
	"VolumeSource.projected/ServiceAccount admission": {func() metav1.Object { return basePod() }, hasTokenVolume},
	"PodSpec.serviceAccountName/v1 defaults": {func() metav1.Object {
		p := basePod()
		p.Spec.DeprecatedServiceAccount = "builder"
		return p
	}, func(p *corev1.Pod) bool { return p.Spec.ServiceAccountName == "builder" }},
	"PodSpec.serviceAccountName/ServiceAccount admission": {func() metav1.Object { return basePod() },
		func(p *corev1.Pod) bool { return p.Spec.ServiceAccountName == "default" }},
	"PodSpec.serviceAccount/v1 defaults": {func() metav1.Object {
		p := basePod()
		p.Spec.ServiceAccountName = "builder"
		return p
	}, func(p *corev1.Pod) bool { return p.Spec.DeprecatedServiceAccount == "builder" }},
	"PodSpec.securityContext/v1 defaults": {func() metav1.Object { return basePod() },
		func(p *corev1.Pod) bool { return p.Spec.SecurityContext != nil }},
	"Container.ports/v1 defaults": {func() metav1.Object {
		p := basePod()
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100}, {ContainerPort: 80, HostPort: 8080}}
		p.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 53}}
		return p
	}, func(p *corev1.Pod) bool {
		return p.Spec.Containers[0].Ports[0].HostPort == 9100 && p.Spec.Containers[0].Ports[1].HostPort == 8080 &&
			p.Spec.InitContainers[0].Ports[0].HostPort == 53
	}},
	"Container.volumeMounts/ServiceAccount admission": {func() metav1.Object { return basePod() }, func(p *corev1.Pod) bool {
		want := corev1.VolumeMount{Name: TokenVolumeName, ReadOnly: true, MountPath: TokenMountPath}
		has := func(ms []corev1.VolumeMount) bool {
			return slices.ContainsFunc(ms, func(m corev1.VolumeMount) bool { return reflect.DeepEqual(m, want) })
		}
		return has(p.Spec.Containers[0].VolumeMounts) && has(p.Spec.InitContainers[0].VolumeMounts)
	}},
	"Container.securityContext/pod registry": {appArmorPod, func(p *corev1.Pod) bool { return p.Spec.Containers[0].SecurityContext != nil }},
	"SecurityContext.appArmorProfile/pod registry": {appArmorPod, func(p *corev1.Pod) bool {
		sc := p.Spec.Containers[0].SecurityContext
		return sc != nil && reflect.DeepEqual(sc.AppArmorProfile, &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault})
	}},
	"VolumeSource.emptyDir/v1 defaults": {func() metav1.Object {
		p := basePod()
		p.Spec.Volumes = []corev1.Volume{{Name: "scratch"}}
		return p
	}, func(p *corev1.Pod) bool { return p.Spec.Volumes[0].EmptyDir != nil }},
}

func appArmorPod() metav1.Object {
	p := basePod()
	p.Annotations = map[string]string{corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app": "runtime/default"}
	return p
}

// run is the whole path: controller, defaults and admission, registry.
func run(t *testing.T, obj metav1.Object) *corev1.Pod {
	t.Helper()
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		var err error
		if pod, err = FromWorkload(obj); err != nil {
			t.Fatal(err)
		}
	}
	p := Create(pod, nil)
	PrepareForCreate(p)
	return p
}

// TestInventoryDefaults checks each default of the inventory on an example
// where the input lacks it.
func TestInventoryDefaults(t *testing.T) {
	for _, d := range Inventory() {
		if d.Step == "" {
			continue
		}
		key := d.Field + "/" + string(d.Step)
		c, ok := stepCases[key]
		if !ok {
			t.Errorf("no test case for %s in stepCases", key)
			continue
		}
		in := c.input()
		if p, ok := in.(*corev1.Pod); ok && c.holds(p) {
			t.Errorf("%s: the input already has the default", key)
		}
		if !c.holds(run(t, in)) {
			t.Errorf("%s: %s not applied", key, d.Default)
		}
	}
}

func TestHostPortsNotDefaultedWithoutHostNetwork(t *testing.T) {
	p := basePod()
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100}}
	if got := Create(p, nil).Spec.Containers[0].Ports[0].HostPort; got != 0 {
		t.Errorf("hostPort = %d without hostNetwork", got)
	}
}

func TestServiceAccountNameWinsOverAlias(t *testing.T) {
	p := basePod()
	p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = "new", "old"
	got := Create(p, nil)
	if got.Spec.ServiceAccountName != "new" || got.Spec.DeprecatedServiceAccount != "new" {
		t.Errorf("got serviceAccountName %q, serviceAccount %q", got.Spec.ServiceAccountName, got.Spec.DeprecatedServiceAccount)
	}
}

func TestCreateLeavesInputAndIsIdempotent(t *testing.T) {
	for name, c := range stepCases {
		in := c.input()
		pod, ok := in.(*corev1.Pod)
		if !ok {
			continue
		}
		before := pod.DeepCopy()
		once := Create(pod, nil)
		if !equality.Semantic.DeepEqual(pod, before) {
			t.Errorf("%s: Create modified its input", name)
		}
		if twice := Create(once, nil); !equality.Semantic.DeepEqual(once, twice) {
			t.Errorf("%s: Create is not idempotent", name)
		}
	}
}

func TestAdmitServiceAccount(t *testing.T) {
	off, on := false, true
	saOff := &corev1.ServiceAccount{AutomountServiceAccountToken: &off}
	saOn := &corev1.ServiceAccount{AutomountServiceAccountToken: &on}
	cases := []struct {
		name        string
		edit        func(*corev1.Pod)
		sa          *corev1.ServiceAccount
		volumes     []string
		appMounts   int
		serviceAcct string
	}{
		{"automount off", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &off }, nil, nil, 0, "default"},
		{"unknown ServiceAccount: automount on", func(*corev1.Pod) {}, nil, []string{TokenVolumeName}, 1, "default"},
		{"ServiceAccount automount off", func(*corev1.Pod) {}, saOff, nil, 0, "default"},
		{"ServiceAccount automount unset", func(*corev1.Pod) {}, &corev1.ServiceAccount{}, []string{TokenVolumeName}, 1, "default"},
		{"the pod's true wins over the ServiceAccount's false", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &on }, saOff, []string{TokenVolumeName}, 1, "default"},
		{"the pod's false wins over the ServiceAccount's true", func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = &off }, saOn, nil, 0, "default"},
		{"an existing token volume is reused", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}}
		}, nil, []string{"kube-api-access-abcde"}, 1, "default"},
		{"every container mounts the path already: no volume", func(p *corev1.Pod) {
			m := corev1.VolumeMount{Name: "own", MountPath: TokenMountPath}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{m}
			p.Spec.InitContainers[0].VolumeMounts = []corev1.VolumeMount{m}
			p.Spec.Volumes = []corev1.Volume{{Name: "own", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}}}
		}, nil, []string{"own"}, 1, "default"},
		{"mirror pods are left alone", func(p *corev1.Pod) { p.Annotations = map[string]string{mirrorPodAnnotation: "x"} }, nil, nil, 0, ""},
	}
	for _, c := range cases {
		p := basePod()
		c.edit(p)
		AdmitServiceAccount(p, c.sa)
		var names []string
		for _, v := range p.Spec.Volumes {
			names = append(names, v.Name)
		}
		if !slices.Equal(names, c.volumes) || len(p.Spec.Containers[0].VolumeMounts) != c.appMounts || p.Spec.ServiceAccountName != c.serviceAcct {
			t.Errorf("%s: volumes %q, %d mounts in app, serviceAccountName %q; want %q, %d, %q", c.name, names,
				len(p.Spec.Containers[0].VolumeMounts), p.Spec.ServiceAccountName, c.volumes, c.appMounts, c.serviceAcct)
		}
		if len(p.Spec.Containers[0].VolumeMounts) == 1 && p.Spec.Containers[0].VolumeMounts[0].Name != c.volumes[0] {
			t.Errorf("%s: mount of %q, want the volume %q", c.name, p.Spec.Containers[0].VolumeMounts[0].Name, c.volumes[0])
		}
	}
}

func TestServiceAccountName(t *testing.T) {
	for _, c := range []struct{ name, alias, want string }{
		{"", "", "default"}, {"", "builder", "builder"}, {"web", "builder", "web"}, {"web", "", "web"},
	} {
		p := &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: c.name, DeprecatedServiceAccount: c.alias}}
		if got := ServiceAccountName(p); got != c.want {
			t.Errorf("serviceAccountName %q, serviceAccount %q: got %q, want %q", c.name, c.alias, got, c.want)
		}
	}
}

// TestVolumeSourceAllPointers: Default tests "no source" by comparing with
// the zero VolumeSource, which is upstream's AllPtrFieldsNil only while
// every field is a pointer.
func TestVolumeSourceAllPointers(t *testing.T) {
	rt := reflect.TypeOf(corev1.VolumeSource{})
	for i := 0; i < rt.NumField(); i++ {
		if rt.Field(i).Type.Kind() != reflect.Pointer {
			t.Errorf("VolumeSource.%s is a %s, not a pointer", rt.Field(i).Name, rt.Field(i).Type)
		}
	}
}

func TestPrepareForCreateAppArmor(t *testing.T) {
	const key = corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app"
	runtimeDefault := &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	name := "k8s-nginx"
	cases := []struct {
		name       string
		annotation string
		edit       func(*corev1.Pod)
		want       *corev1.AppArmorProfile
	}{
		{"localhost", "localhost/k8s-nginx", nil, &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}},
		{"unconfined", "unconfined", nil, &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}},
		{"invalid value", "localhost/", nil, nil},
		{"padded profile", "localhost/ x", nil, nil},
		{"unknown value", "something", nil, nil},
		{"same as the pod's", "runtime/default", func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{AppArmorProfile: runtimeDefault}
		}, nil},
		{"the field wins", "unconfined", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AppArmorProfile: runtimeDefault}
		}, runtimeDefault},
		{"Windows pods", "runtime/default", func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Windows} }, nil},
	}
	for _, c := range cases {
		p := basePod()
		p.Annotations = map[string]string{key: c.annotation}
		if c.edit != nil {
			c.edit(p)
		}
		PrepareForCreate(p)
		var got *corev1.AppArmorProfile
		if sc := p.Spec.Containers[0].SecurityContext; sc != nil {
			got = sc.AppArmorProfile
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: appArmorProfile %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestFromWorkload(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}},
		Spec: basePod().Spec}
	meta := metav1.ObjectMeta{Name: "web", Namespace: "team", UID: "u1"}
	cases := []struct {
		obj       metav1.Object
		ownerKind string
		name      string
	}{
		{&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tmpl}}, "ReplicaSet", ""},
		{&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: tmpl}}, "ReplicaSet", ""},
		{&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tmpl}}, "DaemonSet", ""},
		{&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: tmpl}}, "StatefulSet", "web-0"},
		{&corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Template: &tmpl}}, "ReplicationController", ""},
		{&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}}, "Job", ""},
		{&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, "Job", ""},
		{&corev1.PodTemplate{ObjectMeta: meta, Template: tmpl}, "", ""},
	}
	for _, c := range cases {
		pod, err := FromWorkload(c.obj)
		if err != nil {
			t.Fatalf("%T: %v", c.obj, err)
		}
		what := reflect.TypeOf(c.obj).Elem().Name()
		if pod.Namespace != "team" || pod.Labels["app"] != "web" || pod.Annotations["a"] != "b" || !equality.Semantic.DeepEqual(pod.Spec.Containers, tmpl.Spec.Containers) {
			t.Errorf("%s: pod %+v lost the template or namespace", what, pod.ObjectMeta)
		}
		wantGenerate := "web-"
		if c.name != "" {
			wantGenerate = ""
		}
		if pod.Name != c.name || pod.GenerateName != wantGenerate {
			t.Errorf("%s: name %q generateName %q, want %q %q", what, pod.Name, pod.GenerateName, c.name, wantGenerate)
		}
		owner := metav1.GetControllerOf(pod)
		switch {
		case c.ownerKind == "" && owner != nil:
			t.Errorf("%s: owner %+v", what, owner)
		case c.ownerKind != "" && (owner == nil || owner.Kind != c.ownerKind || owner.UID != "u1"):
			t.Errorf("%s: owner %+v, want a %s", what, owner, c.ownerKind)
		}
		pod.Labels["app"] = "changed"
		if tmpl.Labels["app"] != "web" {
			t.Fatalf("%s: the pod shares the template's labels", what)
		}
	}
	if _, err := FromWorkload(&corev1.ReplicationController{ObjectMeta: meta}); err == nil || !strings.Contains(err.Error(), "has no spec.template") {
		t.Errorf("ReplicationController without template: error %v", err)
	}
	if _, err := FromWorkload(&corev1.Service{ObjectMeta: meta}); err == nil {
		t.Error("a Service became a pod")
	}
}

func TestStatefulSetPod(t *testing.T) {
	pod, err := FromWorkload(statefulSet())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range pod.Spec.Volumes {
		names = append(names, v.Name)
	}
	// The claim replaces the template's volume of the same name.
	if !slices.Equal(names, []string{"data", "cfg"}) || pod.Spec.Volumes[0].PersistentVolumeClaim == nil {
		t.Errorf("volumes %+v", pod.Spec.Volumes)
	}
	if pod.Spec.Hostname != "db-0" || pod.Spec.Subdomain != "db-headless" ||
		pod.Labels[appsv1.StatefulSetPodNameLabel] != "db-0" || pod.Labels[appsv1.PodIndexLabel] != "0" {
		t.Errorf("identity: %+v %+v", pod.ObjectMeta, pod.Spec)
	}
}

func TestControllerUser(t *testing.T) {
	u, ok := ControllerUser("Deployment")
	want := []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}
	if !ok || u.Name != "system:serviceaccount:kube-system:replicaset-controller" || !slices.Equal(u.Groups, want) {
		t.Errorf("Deployment: %+v %v", u, ok)
	}
	if j, _ := ControllerUser("CronJob"); j.Name != "system:serviceaccount:kube-system:job-controller" {
		t.Errorf("CronJob: %+v", j)
	}
	if _, ok := ControllerUser("Pod"); ok {
		t.Error("a controller for Pod")
	}
}

var updateDocs = flag.Bool("update", false, "rewrite the generated part of docs/engine.md")

// TestEngineDocInventory keeps the table of defaulted fields in
// docs/engine.md generated from Inventory.
func TestEngineDocInventory(t *testing.T) {
	var b strings.Builder
	b.WriteString("| field | set by | value | upstream (v1.37) |\n| --- | --- | --- | --- |\n")
	var untouched []string
	for _, d := range Inventory() {
		if d.Step == "" {
			untouched = append(untouched, "`"+d.Field+"`")
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` |\n", d.Field, d.Step, d.Default, d.Source)
	}
	fmt.Fprintf(&b, "\nAs written (no step sets them): %s.\n", strings.Join(untouched, ", "))
	testutil.GeneratedSection(t, "../../docs/engine.md", "podcreate-inventory", b.String(), *updateDocs,
		"run go test ./pkg/podcreate -run TestEngineDocInventory -update")
}
