/**
 * faasade in one file: `npm run demo` runs this on the local provider.
 * The functions run in containers (OS processes) that import this module; the entrypoint
 * runs only in the launching process.
 */
import { App, UserCodeError, gather } from "faasade";

export const app = new App("quickstart");

export const square = app.function(function square(x: number) {
  return x * x;
});

export const slowAdd = app.function(
  async function slowAdd(a: number, b: number) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return a + b;
  },
  { maxContainers: 4 },
);

export const parse = app.function(function parse(text: string) {
  const value = Number(text);
  if (Number.isNaN(value)) throw new TypeError(`not a number: ${JSON.stringify(text)}`);
  return value;
});

app.localEntrypoint(async () => {
  console.log("remote:        square(7) =", await square.remote(7));

  let done = 0;
  let sum = 0;
  for await (const result of square.map(Array.from({ length: 1000 }, (_, i) => i))) {
    sum += result;
    if (++done % 100 === 0 && process.stdout.isTTY) process.stdout.write(`\rmap:           ${done}/1000`);
  }
  console.log(`${process.stdout.isTTY ? "\r" : ""}map:           1000 inputs, sum of squares = ${sum}`);

  const call = await slowAdd.spawn(2, 3);
  console.log("spawn/get:    ", call.objectId, "->", await call.get());

  const calls = await Promise.all([slowAdd.spawn(1, 1), slowAdd.spawn(2, 2), slowAdd.spawn(3, 3)]);
  console.log("gather:       ", await gather(...calls));

  for await (const result of parse.map(["1", "two", "3"], { returnExceptions: true }) as AsyncIterable<number | Error>) {
    if (result instanceof UserCodeError) console.log("user error:   ", (result.cause as Error).message);
    else console.log("parsed:       ", result);
  }
});
