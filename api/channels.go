package api

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
)

// requestChannels returns the sales channels a request of a partner key names,
// for the Authorizer to decide on (a key limited to channels may act only in
// its own; the limit is a condition of its Casbin decision). Users and
// unlimited keys are never limited, so their requests (bodies included) are
// not read for channels. pathChannel is the channel the path itself names
// ("" if none).
func requestChannels(c *gin.Context, ac *auth.Context, pathChannel string) ([]string, error) {
	if ac == nil || !ac.ChannelLimited {
		return nil, nil
	}
	return namedChannels(c, pathChannel)
}

// channelParam is the query parameter that names a sales channel.
const channelParam = "sales_channel_id"

// namedChannels collects the sales channels a request names: in the query
// (sales_channel_id), the x-sales-channel-id header, the JSON body
// (sales_channel_id, sales_channel_ids) and the path (pathChannel).
func namedChannels(c *gin.Context, pathChannel string) ([]string, error) {
	var ids []string
	// Every form a query names it in (repeated, [] and qs's [N]): a form
	// left unread would let a service behind /decisions act on a channel
	// nobody checked.
	ids = append(ids, wire.QueryList(c, channelParam)...)
	for _, h := range c.Request.Header.Values("X-Sales-Channel-Id") {
		for _, v := range strings.Split(h, ",") {
			if v = strings.TrimSpace(v); v != "" {
				ids = append(ids, v)
			}
		}
	}
	if pathChannel != "" {
		ids = append(ids, pathChannel)
	}
	if c.Request.Body != nil && c.Request.ContentLength != 0 {
		b, err := io.ReadAll(io.LimitReader(c.Request.Body, wire.MaxBody+1))
		if err != nil {
			return nil, wire.Invalid("Could not read the request body")
		}
		// Put the body back for the handler, which enforces the size limit.
		c.Request.Body = io.NopCloser(bytes.NewReader(b))
		var body struct {
			One  json.RawMessage `json:"sales_channel_id"`
			Many json.RawMessage `json:"sales_channel_ids"`
		}
		if json.Unmarshal(b, &body) == nil {
			var one string
			if json.Unmarshal(body.One, &one) == nil && one != "" {
				ids = append(ids, one)
			}
			var many []string
			if json.Unmarshal(body.Many, &many) == nil {
				ids = append(ids, many...)
			}
		}
	}
	return ids, nil
}

// pathChannel is the sales channel an admin path names:
// /admin/sales-channels/{id}[/…].
func pathChannel(path string) string {
	rest, ok := strings.CutPrefix(path, "/admin/sales-channels/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}
