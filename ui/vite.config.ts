import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The web UI's build: Preact + TypeScript, bundled by Vite into `dist-ui/` (served by Ferry at
 * `/ui/`). The output must satisfy the UI's Content-Security-Policy (`src/http/ui-assets.ts`):
 * no inline script or style, nothing from another origin — hence no module-preload polyfill
 * (it would be inlined) and CSS always in files.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist-ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
