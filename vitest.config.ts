import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Containers are processes too: on two cores, two test files at a time is plenty.
    maxWorkers: 2,
    testTimeout: 20_000,
    env: { FAASADE_TEST: "1" },
  },
});
