import { defineConfig } from 'vite';

// Preact without @preact/preset-vite: esbuild's automatic JSX runtime is all it needs.
// The app is served by Tauri's custom protocol, so the build must not rely on anything
// the strict CSP in tauri.conf.json forbids (inline scripts or styles, eval).
export default defineConfig({
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  // Tauri expects a fixed port in dev and fails if it is taken.
  server: {
    port: 1420,
    strictPort: true,
  },
  clearScreen: false,
  envPrefix: ['VITE_'],
  build: {
    // WebKitGTK 2.40+ (Debian 12) and WebView2 both handle ES2021.
    target: 'es2021',
    outDir: 'dist',
    emptyOutDir: true,
    // Inline assets would need data: in more CSP directives; keep everything as files.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
