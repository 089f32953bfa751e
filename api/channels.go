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

// channelScope refuses a request of a channel-limited partner key that names
// a sales channel the key does not hold: in the query (sales_channel_id), the
// x-sales-channel-id header, the JSON body (sales_channel_id,
// sales_channel_ids) or the path (/sales-channels/:id).
func (s *Server) channelScope() gin.HandlerFunc {
	return func(c *gin.Context) {
		ac, ok := auth.FromContext(c.Request.Context())
		if !ok || !ac.ChannelLimited {
			c.Next()
			return
		}
		ids, err := namedChannels(c)
		if err == nil {
			err = auth.CheckChannels(ac, ids)
		}
		if err != nil {
			wire.Render(c, err)
			return
		}
		c.Next()
	}
}

func namedChannels(c *gin.Context) ([]string, error) {
	var ids []string
	ids = append(ids, c.QueryArray("sales_channel_id")...)
	ids = append(ids, c.QueryArray("sales_channel_id[]")...)
	for _, h := range c.Request.Header.Values("x-sales-channel-id") {
		for _, v := range strings.Split(h, ",") {
			if v = strings.TrimSpace(v); v != "" {
				ids = append(ids, v)
			}
		}
	}
	if strings.HasPrefix(c.FullPath(), "/admin/sales-channels/:id") {
		ids = append(ids, c.Param("id"))
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
