/**
 * getCallGraph: every call made from inside a running input records that input as its
 * parent, so a spawned call's graph is the whole tree, across containers.
 */
import { App, type InputInfo } from "faasade";

export const app = new App("example-call-graph");
export const fetchPage = app.function(async function fetchPage(url: string) {
  return `<html>${url}</html>`.length;
});
export const summarize = app.function(function summarize(sizes: number[]) {
  return sizes.reduce((a, b) => a + b, 0);
});
export const crawl = app.function(async function crawl(site: string) {
  const sizes: number[] = [];
  for await (const size of fetchPage.map([`${site}/a`, `${site}/b`])) sizes.push(size);
  const total = await (await summarize.spawn(sizes)).get();
  return `${site}: ${total} bytes`;
});

function print(nodes: InputInfo[], depth = 0): void {
  for (const node of nodes) {
    console.log(`${"  ".repeat(depth)}${node.functionName} ${node.status} (${node.inputId} in ${node.taskId})`);
    print(node.children, depth + 1);
  }
}

app.localEntrypoint(async () => {
  const call = await crawl.spawn("https://example.com");
  console.log(await call.get());
  print(await call.getCallGraph());
});
