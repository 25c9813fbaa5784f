import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// The web client is built into web/dist and embedded in the binary (bun build --asset).
// Everything it loads comes from the same origin, as the Content-Security-Policy demands.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [solid()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inlined data: URLs for scripts; the CSP allows only 'self'.
    assetsInlineLimit: 0,
    target: "es2022",
  },
  server: {
    // `npm run dev:web` proxies the API to a `parley serve` on port 8080.
    proxy: { "/api": "http://localhost:8080", "/health": "http://localhost:8080" },
  },
});
