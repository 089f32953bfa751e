import { Toaster, TooltipProvider } from "@medusajs/ui"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import "./index.css"
import { parseLocation } from "./lib/base"
import { PlatformApp } from "./platform/PlatformApp"
import { TenantApp } from "./tenant/TenantApp"

const loc = parseLocation(window.location.pathname, window.location.origin)

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <TooltipProvider>
      {loc.mode === "platform" ? <PlatformApp loc={loc} /> : <TenantApp loc={loc} />}
      <Toaster />
    </TooltipProvider>
  </StrictMode>,
)
