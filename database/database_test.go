package database_test

import (
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/database"
)

// TestSQLiteComparesInstants: SQLite keeps times as text and compares them as
// text, so the DSN has every time written in UTC. Rows and parameters in
// other zones (a local created_at, an expiry computed in UTC) still compare
// as instants: here 08:00-05:00 is after 12:30Z, which a text comparison
// of the zoned forms gets wrong.
func TestSQLiteComparesInstants(t *testing.T) {
	db, err := database.Open("sqlite::memory:tz")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Client.Close()
	if _, err := db.SQL.Exec(`CREATE TABLE stamps (id INTEGER PRIMARY KEY, at DATETIME)`); err != nil {
		t.Fatal(err)
	}
	ny := time.FixedZone("EST", -5*3600)
	tokyo := time.FixedZone("JST", 9*3600)
	base := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{
		base.In(ny),                       // 12:00Z, written as 07:00-05:00 without UTC
		base.Add(time.Hour).In(ny),        // 13:00Z, written as 08:00-05:00
		base.Add(2 * time.Hour).In(tokyo), // 14:00Z, written as 23:00+09:00
	} {
		if _, err := db.SQL.Exec(`INSERT INTO stamps (id, at) VALUES (?, ?)`, i, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		param time.Time
		want  int
	}{
		{base.Add(30 * time.Minute), 2},           // after 12:30Z: 13:00Z and 14:00Z
		{base.Add(90 * time.Minute).In(tokyo), 1}, // after 13:30Z, asked in +09:00
		{base.Add(-time.Hour).In(time.FixedZone("", 0)), 3},
	} {
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM stamps WHERE at > ?`, tc.param).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("rows after %v: %d, want %d", tc.param, n, tc.want)
		}
	}
}
