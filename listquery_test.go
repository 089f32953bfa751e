package gatehouse_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestParseListOrder(t *testing.T) {
	fields := map[string]string{"email": "email", "id": "user_id"}
	for _, tc := range []struct {
		in   string
		want gatehouse.ListOrder
		err  string
	}{
		{"", gatehouse.ListOrder{}, ""},
		{"email", gatehouse.ListOrder{Column: "email"}, ""},
		{"-email", gatehouse.ListOrder{Column: "email", Desc: true}, ""},
		{"id", gatehouse.ListOrder{Column: "user_id"}, ""}, // the API name, mapped to its column
		{"user_id", gatehouse.ListOrder{}, "Order field user_id is not valid"},
		{"--email", gatehouse.ListOrder{}, "Order field -email is not valid"},
		{"email desc", gatehouse.ListOrder{}, "Order field email desc is not valid"},
		{"-", gatehouse.ListOrder{}, "Order field  is not valid"},
	} {
		got, err := gatehouse.ParseListOrder(tc.in, fields)
		if tc.err != "" {
			if gatehouse.ErrorCode(err) != gatehouse.EINVALID || gatehouse.ErrorMessage(err) != tc.err {
				t.Errorf("ParseListOrder(%q) error = %v, want invalid %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseListOrder(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestPageOf(t *testing.T) {
	xs := []int{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		offset, limit int
		want          []int
	}{{0, 2, []int{1, 2}}, {3, 10, []int{4, 5}}, {5, 1, nil}, {9, 1, nil}, {1, 0, []int{}}, {math.MaxInt, 1000, nil}} {
		if got := gatehouse.PageOf(xs, tc.offset, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("PageOf(%d, %d) = %v, want %v", tc.offset, tc.limit, got, tc.want)
		}
	}
}
