import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    // PostgreSQL: one migrated template database per run, cloned per suite; the suites' databases dropped at the end.
    globalSetup: ["test/helpers/pg-global-setup.ts"],
  },
});
