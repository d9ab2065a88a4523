// Builds the UI into dist/, which is committed and embedded in the binary.
// Output must be deterministic (same sources and lockfile -> same bytes), or
// the "embedded UI is stale" check in scripts/test would flake.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    // Icons are inlined as data: URIs only when tiny.
    assetsInlineLimit: 2048,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` talks to a gateway on the default port.
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/uploads": "http://127.0.0.1:8080",
      "/health": "http://127.0.0.1:8080",
    },
  },
});
