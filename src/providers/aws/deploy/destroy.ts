/** `faasade destroy <app> --provider aws`: removes what deploy made for an app. */
import { ExecutionError } from "../../../core/errors.js";
import { ALIAS, functionName, roleName } from "../names.js";
import { readManifest } from "./bucket.js";
import { type AwsDeployOptions, appScope, deployContext } from "./context.js";
import { removeRole } from "./role.js";

/** What AWS says when the thing to remove is already gone. */
const GONE = new Set([
  "ResourceNotFoundException",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
  "NoSuchEntity",
]);
const ignoreMissing = (err: unknown) => {
  if (!GONE.has((err as { name?: string }).name ?? "")) throw err;
};

/** Removes event source mappings, functions (with versions, aliases and URLs), queues, the role and the bucket (or, in a shared bucket, the app's objects). */
export async function destroyAws(app: string, environment: string, options: AwsDeployOptions = {}): Promise<void> {
  const ctx = await deployContext(options);
  const { L, S, Q, log } = ctx;
  const scope = appScope(ctx, app, environment);
  const { bucket, shared, manifestKey, ref } = scope;
  const manifest = await readManifest(ctx, scope);
  if (manifest === undefined) {
    throw new ExecutionError(
      `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on aws (no ${bucket}/${manifestKey})`,
    );
  }
  const lambda = await ctx.sdk.lambda();
  const sqs = await ctx.sdk.sqs();
  for (const fn of manifest.functions) {
    const name = functionName(ref, fn.name);
    log(`removing ${name}`);
    const mappings = await lambda
      .send(new L.ListEventSourceMappingsCommand({ FunctionName: `${name}:${ALIAS}` }))
      .catch(() => ({ EventSourceMappings: [] }));
    for (const m of mappings.EventSourceMappings ?? []) {
      await lambda.send(new L.DeleteEventSourceMappingCommand({ UUID: m.UUID })).catch(ignoreMissing);
    }
    await lambda.send(new L.DeleteFunctionCommand({ FunctionName: name })).catch(ignoreMissing);
    for (const queue of [name, `${name}-dlq`]) {
      const url = await sqs.send(new Q.GetQueueUrlCommand({ QueueName: queue })).then(
        (r) => r.QueueUrl,
        () => undefined,
      );
      if (url !== undefined) await sqs.send(new Q.DeleteQueueCommand({ QueueUrl: url })).catch(ignoreMissing);
    }
  }
  if (options.roleArn === undefined) await removeRole(ctx, roleName(ref), ignoreMissing);
  // A bucket of the app's own goes whole; in a shared one, the app's manifest and settings go
  // (its calls' objects expire by the bucket's lifecycle: call ids do not say which app made them).
  const within = shared === undefined ? undefined : manifestKey.slice(0, -"manifest.json".length);
  log(shared === undefined ? `emptying and removing ${bucket}` : `removing ${bucket}/${within}`);
  const s3 = await ctx.sdk.s3();
  for (;;) {
    const listed = await s3.send(
      new S.ListObjectsV2Command({ Bucket: bucket, ...(within === undefined ? {} : { Prefix: within }) }),
    );
    const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (objects.length === 0) break;
    await s3.send(new S.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  if (shared === undefined) await s3.send(new S.DeleteBucketCommand({ Bucket: bucket }));
}
