import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sdkEntry = fileURLToPath(new URL('./packages/sdk/src/index.ts', import.meta.url));
const sdkBrowserEntry = fileURLToPath(new URL('./packages/sdk/src/browser.ts', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the SDK's sources, not a stale dist/ build.
    // (The browser entry first: '@nestor/sdk' would also match '@nestor/sdk/browser'.)
    alias: [
      { find: '@nestor/sdk/browser', replacement: sdkBrowserEntry },
      { find: '@nestor/sdk', replacement: sdkEntry },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One DynamoDB Local (a JVM) per run, shared by the files that need it.
    globalSetup: ['test/dynamodb-local.global.ts'],
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: 'node_modules/.cache/vitest-results.json' } : undefined,
  },
});
