/**
 * A function's SQS queue, with a dead-letter queue that catches what fails to be processed at all
 * (faasade's own retries are separate). Its visibility timeout follows the function's timeout.
 */
import type { DeployContext } from "./context.js";
import { read, remove, request } from "./requests.js";

/** Receives before a message goes to the dead-letter queue. */
const MAX_RECEIVES = 5;

/** The queue's ARN, made or brought up to date. */
export async function ensureQueue(
  ctx: DeployContext,
  name: string,
  fnName: string,
  timeoutS: number,
  tags: Record<string, string>,
): Promise<string> {
  const { Q } = ctx;
  const sqs = await ctx.sdk.sqs();
  // A message stays invisible while its invocation may still run (and a few retries of the poll).
  const visibility = String(Math.min(43_200, timeoutS * 6));
  const existing = await queueUrl(ctx, name);
  if (existing !== undefined) {
    const attributes = await queueAttributes(ctx, existing, ["QueueArn", "VisibilityTimeout"]);
    if (attributes.VisibilityTimeout !== visibility) {
      await request(`SetQueueAttributes ${name}`, () =>
        sqs.send(new Q.SetQueueAttributesCommand({ QueueUrl: existing, Attributes: { VisibilityTimeout: visibility } })),
      );
    }
    return attributes.QueueArn as string;
  }
  // CreateQueue of an existing queue with the same attributes answers its URL: a dead-letter
  // queue left by an interrupted deploy is found again.
  const dlq = await request(`CreateQueue ${name}-dlq`, () =>
    sqs.send(new Q.CreateQueueCommand({ QueueName: `${name}-dlq`, tags })),
  );
  const dlqArn = (await queueAttributes(ctx, dlq.QueueUrl as string, ["QueueArn"])).QueueArn;
  const created = await request(`CreateQueue ${name}`, () =>
    sqs.send(
      new Q.CreateQueueCommand({
        QueueName: name,
        tags: { ...tags, "faasade:function": fnName },
        Attributes: {
          VisibilityTimeout: visibility,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
        },
      }),
    ),
  );
  return (await queueAttributes(ctx, created.QueueUrl as string, ["QueueArn"])).QueueArn as string;
}

/** Removes the function's queue and dead-letter queue; missing ones are fine. */
export async function removeQueues(ctx: DeployContext, name: string): Promise<void> {
  const sqs = await ctx.sdk.sqs();
  for (const queue of [name, `${name}-dlq`]) {
    const url = await queueUrl(ctx, queue);
    if (url !== undefined) await remove(`DeleteQueue ${queue}`, () => sqs.send(new ctx.Q.DeleteQueueCommand({ QueueUrl: url })));
  }
}

async function queueUrl(ctx: DeployContext, name: string): Promise<string | undefined> {
  const sqs = await ctx.sdk.sqs();
  const got = await read(`GetQueueUrl ${name}`, () => sqs.send(new ctx.Q.GetQueueUrlCommand({ QueueName: name })));
  return got?.QueueUrl;
}

async function queueAttributes(
  ctx: DeployContext,
  url: string,
  names: ("QueueArn" | "VisibilityTimeout")[],
): Promise<Partial<Record<string, string>>> {
  const sqs = await ctx.sdk.sqs();
  const got = await request(`GetQueueAttributes ${url}`, () =>
    sqs.send(new ctx.Q.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names })),
  );
  return got.Attributes ?? {};
}
