package serve

import "testing"

func TestSoftMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		limit   string
		want    int64
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"512Mi", 512 << 20 * 9 / 10, false},
		{"536870912", 536870912 * 9 / 10, false}, // the downward API's bytes
		{"1G", 900_000_000, false},
		{"lots", 0, true},
		{"-1Mi", 0, true},
	} {
		got, err := SoftMemoryLimit(tc.limit)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("SoftMemoryLimit(%q) = %d, %v; want %d, error %v", tc.limit, got, err, tc.want, tc.wantErr)
		}
	}
}
