import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const sdkBrowserEntry = fileURLToPath(new URL('../sdk/src/browser.ts', import.meta.url));

/**
 * The catalog browser's build: one entry (index.html), hashed files under /assets/, no inline
 * script or style (the orchestrator's CSP allows only 'self'), no source maps in what is served.
 * `NESTOR_WEB_OUT_DIR` builds elsewhere (the browser tests build into a temp folder).
 */
export default defineConfig({
  plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false })],
  resolve: {
    // The SDK's browser entry, from its sources: always current, no stale dist/.
    alias: { '@nestor/sdk/browser': sdkBrowserEntry },
  },
  build: {
    outDir: process.env.NESTOR_WEB_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    sourcemap: false,
  },
  logLevel: process.env.NESTOR_WEB_QUIET ? 'warn' : 'info',
});
