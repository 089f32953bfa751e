package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/webhookdelivery"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// registerWebhooks mounts /admin/webhooks: the tenant's endpoints for
// outbox events, their delivery history and manual retries.
func registerWebhooks(g *gin.RouterGroup, d Deps) {
	h := &webhookRoutes{svc: d.Webhooks}
	g.GET("/webhooks", wire.H(h.list))
	g.POST("/webhooks", wire.H(h.create))
	g.GET("/webhooks/:id", wire.H(h.get))
	g.POST("/webhooks/:id", wire.H(h.update))
	g.DELETE("/webhooks/:id", wire.H(h.delete))
	g.GET("/webhooks/:id/deliveries", wire.H(h.deliveries))
	g.POST("/webhooks/:id/deliveries/:delivery_id/retry", wire.H(h.retry))
}

type webhookRoutes struct{ svc *webhooks.Service }

var errWebhooksOff = gatehouse.Errorf(gatehouse.EUNAVAILABLE, "Webhooks are not enabled on this server")

// webhookJSON is a webhook as the API shows it. Secret is set only in the
// response to its creation: it is never shown again.
type webhookJSON struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
	Secret      string   `json:"secret,omitempty"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func webhookToJSON(w *ent.Webhook) webhookJSON {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return webhookJSON{ID: w.ID, URL: w.URL, Description: w.Description, EventTypes: types, Enabled: w.Enabled,
		CreatedAt: isoTime(w.CreatedAt), UpdatedAt: isoTime(w.UpdatedAt)}
}

type webhookResponse struct {
	Webhook webhookJSON `json:"webhook"`
}

type webhookListResponse struct {
	Webhooks []webhookJSON `json:"webhooks"`
	Count    int           `json:"count"`
	Offset   int           `json:"offset"`
	Limit    int           `json:"limit"`
}

// deliveryJSON is one event's delivery to a webhook.
type deliveryJSON struct {
	ID             string  `json:"id"`
	WebhookID      string  `json:"webhook_id"`
	EventID        string  `json:"event_id"`
	EventName      string  `json:"event_name"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	ExpiresAt      *string `json:"expires_at"`
	LastAttemptAt  *string `json:"last_attempt_at"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
	DeliveredAt    *string `json:"delivered_at"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

func deliveryToJSON(dl *ent.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{ID: dl.ID, WebhookID: dl.WebhookID, EventID: dl.EventID, EventName: dl.EventName,
		Status: string(dl.Status), Attempts: dl.Attempts, ExpiresAt: isoTimePtr(dl.ExpiresAt),
		LastAttemptAt: isoTimePtr(dl.LastAttemptAt), LastStatusCode: dl.LastStatusCode, LastError: dl.LastError,
		DeliveredAt: isoTimePtr(dl.DeliveredAt), CreatedAt: isoTime(dl.CreatedAt), UpdatedAt: isoTime(dl.UpdatedAt)}
	if dl.Status == webhookdelivery.StatusPending {
		out.NextAttemptAt = isoTimePtr(&dl.NextAttemptAt)
	}
	return out
}

func (h *webhookRoutes) list(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	p, err := wire.ListParams(c, 20)
	if err != nil {
		return err
	}
	ws, count, err := h.svc.FindWebhooks(c.Request.Context(), webhooks.Filter{Offset: p.Offset, Limit: p.Limit})
	if err != nil {
		return err
	}
	out := webhookListResponse{Webhooks: make([]webhookJSON, 0, len(ws)), Count: count, Offset: p.Offset, Limit: p.Limit}
	for _, w := range ws {
		out.Webhooks = append(out.Webhooks, webhookToJSON(w))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type createWebhookRequest struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

// Validate implements wire.Validator.
func (r *createWebhookRequest) Validate() error {
	if r.URL == nil {
		return wire.Invalid("Field 'url' is required")
	}
	return nil
}

func (h *webhookRoutes) create(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	var req createWebhookRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	in := webhooks.CreateInput{URL: *req.URL, EventTypes: req.EventTypes, Enabled: req.Enabled}
	if req.Description != nil {
		in.Description = *req.Description
	}
	w, secret, err := h.svc.CreateWebhook(c.Request.Context(), in)
	if err != nil {
		return err
	}
	out := webhookToJSON(w)
	out.Secret = secret
	c.JSON(http.StatusOK, webhookResponse{Webhook: out})
	return nil
}

func (h *webhookRoutes) get(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	w, err := h.svc.FindWebhookByID(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, webhookResponse{Webhook: webhookToJSON(w)})
	return nil
}

type updateWebhookRequest struct {
	URL         *string  `json:"url"`
	Description *string  `json:"description"`
	EventTypes  []string `json:"event_types"`
	Enabled     *bool    `json:"enabled"`
}

func (h *webhookRoutes) update(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	var req updateWebhookRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	w, err := h.svc.UpdateWebhook(c.Request.Context(), c.Param("id"), webhooks.UpdateInput{
		URL: req.URL, Description: req.Description, EventTypes: req.EventTypes, Enabled: req.Enabled,
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, webhookResponse{Webhook: webhookToJSON(w)})
	return nil
}

func (h *webhookRoutes) delete(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	id := c.Param("id")
	if err := h.svc.DeleteWebhook(c.Request.Context(), id); err != nil {
		return err
	}
	c.JSON(http.StatusOK, wire.Deleted{ID: id, Object: "webhook", Deleted: true})
	return nil
}

func (h *webhookRoutes) deliveries(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	p, err := wire.ListParams(c, 20)
	if err != nil {
		return err
	}
	ds, count, err := h.svc.FindDeliveries(c.Request.Context(), c.Param("id"), webhooks.DeliveryFilter{
		Status: c.Query("status"), Offset: p.Offset, Limit: p.Limit,
	})
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, dl := range ds {
		out = append(out, deliveryToJSON(dl))
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out, "count": count, "offset": p.Offset, "limit": p.Limit})
	return nil
}

func (h *webhookRoutes) retry(c *gin.Context) error {
	if h.svc == nil {
		return errWebhooksOff
	}
	dl, err := h.svc.RetryDelivery(c.Request.Context(), c.Param("id"), c.Param("delivery_id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"delivery": deliveryToJSON(dl)})
	return nil
}
