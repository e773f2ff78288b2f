package storage

import "testing"

func TestToPostgres(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`UPDATE t SET a = ?2 WHERE id = ?1 AND b = ?2`, `UPDATE t SET a = $2 WHERE id = $1 AND b = $2`},
		{`SELECT '?', "a?" FROM t WHERE x = ?`, `SELECT '?', "a?" FROM t WHERE x = $1`},
		{"SELECT 1 -- is it?\nFROM t WHERE x = ?", "SELECT 1 -- is it?\nFROM t WHERE x = $1"},
		{`SELECT value FROM json_each(?3) WHERE v = 'json_each(x)'`, `SELECT value FROM coppice_json_each($3) WHERE v = 'json_each(x)'`},
		{`SELECT my_json_each(?)`, `SELECT my_json_each($1)`},
		{`SELECT 'it''s' || ?`, `SELECT 'it''s' || $1`},
	} {
		if got := toPostgres(c.in); got != c.want {
			t.Errorf("toPostgres(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPgArgsStoresFlagsAsIntegers(t *testing.T) {
	in := []any{"a", true, int64(3), false}
	got := pgArgs(in)
	want := []any{"a", int64(1), int64(3), int64(0)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("arg %d = %#v, want %#v", i, got[i], want[i])
		}
	}
	if in[1] != true {
		t.Error("pgArgs changed its caller's slice")
	}
}
