package markdown

import (
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	tests := []struct {
		name, src string
		want, not []string
	}{
		{"heading and list", "# Seed saving\n\n- dry\n- label\n", []string{"<h1", "Seed saving</h1>", "<li>dry</li>"}, nil},
		{"table", "| crop | days |\n|---|---|\n| rye | 90 |\n", []string{"<table>", "<td>rye</td>"}, nil},
		{"raw script is dropped", "hello <script>alert(1)</script>", []string{"hello"}, []string{"<script"}},
		{"raw html block is dropped", "<div onclick=\"x()\">hi</div>\n", nil, []string{"onclick", "<div"}},
		{"autolink", "see https://seeds.example/rye", []string{`<a href="https://seeds.example/rye">`}, nil},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.HTML(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("HTML(%q) = %q, want it to hold %q", tt.src, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("HTML(%q) = %q, holds %q", tt.src, got, n)
				}
			}
		})
	}
}
