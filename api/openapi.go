package api

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"sigs.k8s.io/yaml"
)

// openAPIYAML is the OpenAPI 3.1 description of every route. api/openapi.yaml
// is the canonical file (go:embed cannot reach ../docs); docs/openapi.yaml is
// a copy that api/openapi_test.go keeps byte-identical.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns the embedded OpenAPI document, as written.
func OpenAPIYAML() []byte { return openAPIYAML }

var openAPIJSON = sync.OnceValues(func() ([]byte, error) { return yaml.YAMLToJSON(openAPIYAML) })

// openAPI serves GET /openapi.json.
func (s *Server) openAPI(c *gin.Context) {
	b, err := openAPIJSON()
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"type": "unknown_error", "message": "An unknown error occurred."})
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", b)
}

// Routes lists the registered routes (method and Gin path, e.g.
// /admin/users/:id), for the OpenAPI coverage test.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }
