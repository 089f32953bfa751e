import react from "@vitejs/plugin-react"
import { defineConfig } from "vitest/config"

// The console is served at /app/ of every tenant, at /t/{slug}/app/ and at
// /platform/app/: a relative base makes one build work under all of them
// (client-side routes are one segment deep, so ./assets always resolves).
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    // dist/README.txt is committed; scripts/web.sh clears the rest.
    emptyOutDir: false,
    assetsDir: "assets",
    chunkSizeWarningLimit: 2000,
  },
  server: {
    // npm run dev: the API of `make run` on :9000 behind the dev server (same
    // origin for the cookie), the tenant named by header.
    proxy: Object.fromEntries(
      ["/auth", "/admin", "/platform/tenants"].map((p) => [
        p,
        { target: "http://localhost:9000", headers: { "x-tenant-id": process.env.GATEHOUSE_TENANT ?? "demo" } },
      ]),
    ),
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
})
