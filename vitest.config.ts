import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, so `npm test` needs no build for unit tests.
    alias: {
      "@svcbgp/api": src("./libs/api/src/index.ts"),
      "@svcbgp/bgp": src("./libs/bgp/src/index.ts"),
      "@svcbgp/config": src("./libs/config/src/index.ts"),
      "@svcbgp/telemetry": src("./libs/telemetry/src/index.ts"),
    },
  },
  test: {
    include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
