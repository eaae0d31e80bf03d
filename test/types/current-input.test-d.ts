/** Type tests of `currentInput()` and `currentInput.required()` (type-checked by `npm test`, never run). */
import { App, type CurrentInput, currentInput } from "faasade";
import { describe, expectTypeOf, it } from "vitest";

describe("currentInput", () => {
  it("may be undefined: outside a running function there is no input", () => {
    expectTypeOf(currentInput()).toEqualTypeOf<CurrentInput | undefined>();
    // @ts-expect-error destructuring what may be undefined fails under strict
    const { signal } = currentInput();
    expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
  });

  it("required() is the running function's input, never undefined", () => {
    expectTypeOf(currentInput.required()).toEqualTypeOf<CurrentInput>();
    const app = new App("types-input");
    app.function(async function wait(ms: number) {
      const { signal, attempt, inputId, functionCallId } = currentInput.required();
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(attempt).toEqualTypeOf<number>();
      expectTypeOf(inputId).toEqualTypeOf<string>();
      expectTypeOf(functionCallId).toEqualTypeOf<string>();
      return ms;
    });
  });
});
