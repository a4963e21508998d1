import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies /v1 to the API so the UI runs without the gateway while editing.
export default defineConfig({
  plugins: [react()],
  build: { target: "es2022", sourcemap: true, chunkSizeWarningLimit: 400 },
  server: { proxy: { "/v1": process.env.ASSETFLOW_API ?? "http://127.0.0.1:8000" } },
});
