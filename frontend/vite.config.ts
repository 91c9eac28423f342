import { fileURLToPath } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The dashboard serves the bundle under fixed names (editor.js, editor.css) from the Python
// package, so the build writes there, as one self-starting script with no hashed chunks.
const outDir = fileURLToPath(
  new URL("../src/konversation/dashboard/static/editor", import.meta.url),
);

export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    minify: true,
    lib: {
      entry: fileURLToPath(new URL("src/main.tsx", import.meta.url)),
      formats: ["iife"],
      name: "KonversationFlowEditor",
      fileName: () => "editor.js",
      cssFileName: "editor",
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
