// Names fitted to a platform's rules (src/cloud/names.ts): unchanged when they fit, else distinct by a hash.
import { describe, expect, it } from "vitest";
import { fittedName, keyPrefixOf, shortHash } from "../src/cloud/names.js";

describe("cloud names", () => {
  it("a name that fits is kept; one that had to change or is too long ends in a hash of the original", () => {
    expect(fittedName("faasade-main-app-f", 63)).toBe("faasade-main-app-f");
    const changed = [fittedName("App_F", 63), fittedName("app.f", 63), fittedName("app_f", 63), fittedName("x".repeat(80), 63)];
    for (const name of changed) {
      expect(name).toMatch(/^[a-z0-9-]+-[0-9a-f]{8}$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(fittedName("App_F", 63)).not.toBe(fittedName("app_f", 63));
    expect(fittedName("x".repeat(80), 63)).not.toBe(fittedName("x".repeat(81), 63));
    expect(shortHash("a", 8)).toMatch(/^[0-9a-f]{8}$/);
    expect(shortHash("a", 8)).not.toBe(shortHash("b", 8));
  });

  it("objects go to a bucket's root, or under faasade/ in a shared one", () => {
    expect(keyPrefixOf({})).toBe("");
    expect(keyPrefixOf({ bucket: "shared" })).toBe("faasade/");
  });
});
