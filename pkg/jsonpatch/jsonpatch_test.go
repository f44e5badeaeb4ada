package jsonpatch

import (
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

func TestCreateRoundTrips(t *testing.T) {
	tests := []struct{ name, from, to string }{
		{"same", `{"a":1}`, `{"a":1}`},
		{"add nested", `{"spec":{"containers":[{"name":"a"}]}}`, `{"spec":{"containers":[{"name":"a","securityContext":{"runAsNonRoot":true}}]}}`},
		{"escaped key", `{"metadata":{"annotations":{"x":"y"}}}`, `{"metadata":{"annotations":{"x":"y","kubernetes.io/psp":"restricted","a~b":"c"}}}`},
		{"new map", `{"metadata":{}}`, `{"metadata":{"annotations":{"kubernetes.io/psp":"p"}}}`},
		{"replace and remove", `{"a":[1,2],"b":"x","c":true}`, `{"a":[1,2,3],"b":"y"}`},
		{"array elements", `{"a":[{"x":1},{"x":2}]}`, `{"a":[{"x":1},{"x":3,"y":[]}]}`},
		{"type change", `{"a":{"b":1}}`, `{"a":[1]}`},
		{"root replaced", `[1]`, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := Create([]byte(tt.from), []byte(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if tt.from == tt.to && len(ops) != 0 {
				t.Errorf("no change must give no operations: %v", ops)
			}
			assertApplies(t, tt.from, tt.to, ops)
		})
	}
}

func assertApplies(t *testing.T, from, to string, ops []Operation) {
	t.Helper()
	raw, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	got, err := patch.Apply([]byte(from))
	if err != nil {
		t.Fatalf("applying %s: %v", raw, err)
	}
	if !jsonpatch.Equal(got, []byte(to)) {
		t.Errorf("patch %s gives %s, want %s", raw, got, to)
	}
}

func TestCreateRejectsBadJSON(t *testing.T) {
	if _, err := Create([]byte("{"), []byte("{}")); err == nil {
		t.Error("bad original accepted")
	}
	if _, err := Create([]byte("{}"), []byte("x")); err == nil {
		t.Error("bad modified accepted")
	}
}

func FuzzCreate(f *testing.F) {
	f.Add(`{"a":[1,{"b":null}]}`, `{"a":[2,{"b":{"c":"~/"}}],"d":1}`)
	f.Fuzz(func(t *testing.T, from, to string) {
		// Admission patches always apply to an object (the pod); the
		// applier used here refuses scalar roots.
		var a, b map[string]any
		if json.Unmarshal([]byte(from), &a) != nil || json.Unmarshal([]byte(to), &b) != nil {
			return
		}
		ops, err := Create([]byte(from), []byte(to))
		if err != nil {
			t.Fatal(err)
		}
		assertApplies(t, from, to, ops)
	})
}

func TestCreateAt(t *testing.T) {
	doc := `{"spec":{"a":{"x":1}}}`
	for _, tc := range []struct {
		name, path, from, to, want string
	}{
		{"add absent", "/spec/b", "", `{"y":2}`, `{"spec":{"a":{"x":1},"b":{"y":2}}}`},
		{"diff inside", "/spec/a", `{"x":1}`, `{"x":1,"z":3}`, `{"spec":{"a":{"x":1,"z":3}}}`},
		{"remove", "/spec/a", `{"x":1}`, "", `{"spec":{}}`},
		{"neither", "/spec/c", "", "", doc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var from, to []byte
			if tc.from != "" {
				from = []byte(tc.from)
			}
			if tc.to != "" {
				to = []byte(tc.to)
			}
			ops, err := CreateAt(tc.path, from, to)
			if err != nil {
				t.Fatal(err)
			}
			assertApplies(t, doc, tc.want, ops)
		})
	}
}
