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
    exclude: ["**/node_modules/**", "**/dist/**", "test/bench/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Groups run one after another: the system suites (namespace lab, containers) assert on
    // live traffic through restarts, so they get the machine to themselves, one file at a time.
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["libs/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/fuzz/**/*.test.ts", "test/packaging/**/*.test.ts"], sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"], sequence: { groupOrder: 1 } } },
      {
        extends: true,
        test: { name: "system", include: ["test/e2e/**/*.test.ts", "test/containers/**/*.test.ts"], sequence: { groupOrder: 2 }, fileParallelism: false },
      },
    ],
  },
});
