import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The clouds' fault scenarios (a few minutes each, one file at a time) run with `npm run faults`, which sets
    // FAASADE_FAULTS.
    exclude: ["**/node_modules/**", ...(process.env.FAASADE_FAULTS ? [] : ["test/*.faults.*.test.ts"])],
    pool: "forks",
    // Containers are processes too: on two cores, two test files at a time is plenty.
    maxWorkers: 2,
    testTimeout: 20_000,
    // A FAASADE_HOME of the run's own: tests never see (or touch) a developer's deployments.
    env: { FAASADE_TEST: "1", FAASADE_HOME: join(tmpdir(), `faasade-vitest-${process.pid}`) },
    // Type tests: test/types/*.test-d.ts are type-checked (tsc, never run) against the built
    // declarations, as a user's project sees them; a type error there fails the run.
    typecheck: {
      enabled: true,
      include: ["test/types/*.test-d.ts"],
      tsconfig: "test/types/tsconfig.json",
    },
  },
});
