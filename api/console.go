package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/web"
)

// consoleCSP is the console's Content-Security-Policy: its own scripts and
// styles only (inline style attributes, which the UI kit's positioning
// uses, but no inline script), API calls to the same origin, QR codes as
// data: images, no framing, no plugins.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// consoleNotBuilt is the page served when the binary was built without the
// console (a fresh clone: web/dist holds only its README).
const consoleNotBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse console not built</title></head>
<body><h1>The admin console is not built</h1>
<p>This Gatehouse binary was built without the console. Build it with <code>make web</code>
(Node.js 20 or later: <code>scripts/web.sh build</code> runs <code>npm ci</code> and Vite into
<code>web/dist</code>), then rebuild or rerun the server (<code>make build</code>, <code>make run</code>).</p>
<p>The API itself is unaffected. More in docs/console.md.</p>
</body></html>
`

// consoleTypes are the content types of the files Vite emits; anything
// else is served as application/octet-stream.
var consoleTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".txt":   "text/plain; charset=utf-8",
	".webp":  "image/webp",
}

// console serves the single-page app in fsys: files as they are, every
// other path (a client-side route) as index.html.
type console struct {
	fsys  fs.FS
	built bool
	etags sync.Map // file name → quoted ETag
}

func newConsole(fsys fs.FS) *console {
	if fsys == nil {
		fsys = web.Dist()
	}
	return &console{fsys: fsys, built: web.Built(fsys)}
}

// redirect sends /app to /app/ relative to the request, so the /t/{slug}
// prefix the browser used is kept.
func (cs *console) redirect(c *gin.Context) {
	c.Header("Location", "app/")
	c.Status(http.StatusMovedPermanently)
}

// serve answers GET …/app/*path.
func (cs *console) serve(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !cs.built {
		h.Set("Cache-Control", "no-store")
		c.Data(http.StatusNotFound, "text/html; charset=utf-8", []byte(consoleNotBuilt))
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+c.Param("path")), "/")
	if name == "" || name == "." {
		name = "index.html"
	}
	b, err := fs.ReadFile(cs.fsys, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) && !isDirErr(cs.fsys, name) {
			c.String(http.StatusInternalServerError, "console: cannot read %s", name)
			return
		}
		// A missing asset is a 404: answering it with index.html would
		// hide a stale build behind a MIME-type error in the browser.
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			h.Set("Cache-Control", "no-store")
			c.String(http.StatusNotFound, "Not found")
			return
		}
		name = "index.html"
		if b, err = fs.ReadFile(cs.fsys, name); err != nil {
			c.String(http.StatusInternalServerError, "console: cannot read index.html")
			return
		}
	}
	if strings.HasPrefix(name, "assets/") {
		// Vite names every file under assets/ by its content hash.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	etag := cs.etag(name, b)
	h.Set("ETag", etag)
	if match := c.GetHeader("If-None-Match"); match != "" && match == etag {
		c.Status(http.StatusNotModified)
		return
	}
	ct, ok := consoleTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	c.Data(http.StatusOK, ct, b)
}

func (cs *console) etag(name string, b []byte) string {
	if v, ok := cs.etags.Load(name); ok {
		return v.(string)
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	cs.etags.Store(name, tag)
	return tag
}

func isDirErr(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}
