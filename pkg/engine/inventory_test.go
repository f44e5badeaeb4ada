package engine

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/internal/testutil"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated part of docs/security.md")

// inventoriedTypes are the pod API types whose every field must be classified.
var inventoriedTypes = []any{corev1.PodSpec{}, corev1.Container{}, corev1.SecurityContext{}, corev1.PodSecurityContext{},
	corev1.WindowsSecurityContextOptions{}, corev1.VolumeSource{}}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// TestInventoryCoversEveryPodField is the guard: bumping k8s.io/api to a
// release with a new pod field fails here until the field is classified in
// inventory.go (and, if it grants power, checked by a control).
func TestInventoryCoversEveryPodField(t *testing.T) {
	classified := map[string]bool{}
	for _, d := range Inventory() {
		if classified[d.Field] {
			t.Errorf("%s is classified twice", d.Field)
		}
		classified[d.Field] = true
	}
	seen := map[string]bool{}
	for _, v := range inventoriedTypes {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			name := rt.Name() + "." + jsonName(rt.Field(i))
			seen[name] = true
			if !classified[name] {
				t.Errorf("pod field %s (Go %s.%s) is not classified: decide in pkg/engine/inventory.go which control checks it, or why it is harmless", name, rt.Name(), rt.Field(i).Name)
			}
		}
	}
	for name := range classified {
		if !seen[name] {
			t.Errorf("inventory entry %s names no field of the compiled k8s.io/api", name)
		}
	}
}

// TestEphemeralContainersHaveContainerFields: ephemeral containers are
// checked as containers, which is only sound while their fields are the same.
func TestEphemeralContainersHaveContainerFields(t *testing.T) {
	c, e := reflect.TypeOf(corev1.Container{}), reflect.TypeOf(corev1.EphemeralContainerCommon{})
	if c.NumField() != e.NumField() {
		t.Fatalf("Container has %d fields, EphemeralContainerCommon %d", c.NumField(), e.NumField())
	}
	for i := 0; i < c.NumField(); i++ {
		if c.Field(i).Name != e.Field(i).Name || c.Field(i).Type != e.Field(i).Type {
			t.Errorf("field %d: Container.%s %v, EphemeralContainerCommon.%s %v", i, c.Field(i).Name, c.Field(i).Type, e.Field(i).Name, e.Field(i).Type)
		}
	}
	if reflect.TypeOf(corev1.EphemeralContainer{}).NumField() != 2 {
		t.Error("EphemeralContainer gained fields beyond EphemeralContainerCommon and targetContainerName: classify them")
	}
}

// TestSecurityDocInventory keeps the table in docs/security.md generated from the inventory.
func TestSecurityDocInventory(t *testing.T) {
	testutil.GeneratedSection(t, "../../docs/security.md", "inventory", renderInventory(), *updateDocs,
		"run go test ./pkg/engine -run TestSecurityDocInventory -update")
}

func renderInventory() string {
	var b strings.Builder
	b.WriteString("| field | checked by | note |\n| --- | --- | --- |\n")
	for _, d := range Inventory() {
		name := "`" + d.Field + "`"
		if d.After124 {
			name += " (after v1.24)"
		}
		control := d.Control
		if control == "" {
			control = "harmless"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, control, d.Note)
	}
	return b.String()
}
