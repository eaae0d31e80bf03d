/**
 * The execution role faasade makes for an app when none is given: Lambda may assume it, and it
 * may do exactly what the runtime does, on this app's resources only: write its logs, read and
 * write its objects, consume its queues (the event source mappings use the function's role) and
 * send to them (spawns and retries), and invoke its own functions (nested calls). Each action is
 * one the runtime's requests need (test/aws.policy.test.ts lists which request needs which).
 */
export interface PolicyScope {
  region: string;
  account: string;
  bucket: string;
  /** Where faasade's objects are in the bucket: "" (the app's own bucket) or "faasade/" (a shared one). */
  keyPrefix: string;
  /** Name prefix shared by the app's functions and queues (`<prefix>-<env>-<app>-`). */
  namePrefix: string;
  /**
   * The app's functions (and so queues) by name. Named one by one, the role cannot reach an app
   * whose name merely starts with this one's (`shop` and `shop-admin` share `faasade-main-shop-`);
   * an app too large for IAM's policy size is granted by `namePrefix` instead.
   */
  functions?: readonly string[] | undefined;
}

export const TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** IAM caps a role's inline policies at 10 240 characters together: leave room for the whitespace-free rest. */
export const POLICY_BUDGET = 9000;

export function rolePolicy(s: PolicyScope): object {
  if (s.functions !== undefined && s.functions.length > 0) {
    const named = policyFor(s, s.functions);
    if (JSON.stringify(named).length <= POLICY_BUDGET) return named;
  }
  return policyFor(s, undefined);
}

function policyFor(s: PolicyScope, functions: readonly string[] | undefined): object {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${s.region}:${s.account}:${resource}`;
  const names = functions ?? [`${s.namePrefix}*`];
  // A shared bucket holds other data: its listing is limited to faasade's keys, as its objects are.
  const listing = s.keyPrefix === "" ? {} : { Condition: { StringLike: { "s3:prefix": [`${s.keyPrefix}*`] } } };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // Lambda writes the function's logs with its role; the group is made on the first write.
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: names.flatMap((n) => [arn("logs", `log-group:/aws/lambda/${n}`), arn("logs", `log-group:/aws/lambda/${n}:*`)]),
      },
      {
        // GetObject also answers HeadObject; PutObject also multipart uploads; DeleteObject also DeleteObjects.
        Sid: "Bucket",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: [`arn:aws:s3:::${s.bucket}/${s.keyPrefix}*`],
      },
      { Sid: "BucketList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${s.bucket}`], ...listing },
      {
        // Receive, Delete, GetQueueAttributes: the event source mapping; Send (SendMessageBatch too), GetQueueUrl: spawns and retries.
        Sid: "Queues",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
        Resource: names.map((n) => arn("sqs", n)),
      },
      {
        // Nested calls invoke the `live` alias; InvokeWithResponseStream is authorized as InvokeFunction.
        Sid: "NestedCalls",
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: names.flatMap((n) =>
          functions === undefined
            ? [arn("lambda", `function:${n}`)]
            : [arn("lambda", `function:${n}`), arn("lambda", `function:${n}:*`)],
        ),
      },
    ],
  };
}
