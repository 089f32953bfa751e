package gatehouse_test

import (
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
