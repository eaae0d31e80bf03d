import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Input, OutcomeSink } from "../src/core/provider.js";
import { Held } from "../src/providers/local/held.js";

const sink: OutcomeSink = { outcome() {}, chunk() {} };
const input = (n: number): Input => ({ inputId: `in-${n}`, callId: "fc-x", attempt: 1, args: new Uint8Array() });

describe("Held: a container's inputs by sequence number", () => {
  it("behaves as a Map from numbers given in order, whatever order they finish in", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant<"add">("add"), fc.nat(300)), { maxLength: 600 }), (ops) => {
        const held = new Held();
        const model = new Map<number, Input>();
        let next = 0;
        for (const op of ops) {
          if (op === "add") {
            const item = input(next);
            expect(held.add(item, sink)).toBe(next);
            model.set(next++, item);
          } else {
            held.delete(op);
            model.delete(op);
          }
          expect(held.size).toBe(model.size);
        }
        expect([...held.seqs()]).toEqual([...model.keys()].sort((a, b) => a - b));
        for (let seq = 0; seq < next; seq++) expect(held.input(seq)).toBe(model.get(seq));
        held.clear();
        expect(held.size).toBe(0);
        expect([...held.seqs()]).toEqual([]);
      }),
    );
  });
});
