/**
 * The execution role faasade makes for an app when none is given: Lambda may assume it, and it
 * may do exactly what the runtime does, on this app's resources only: write its logs, read and
 * write its bucket, consume and send to its queues, and invoke its own functions (nested calls).
 */
export interface PolicyScope {
  region: string;
  account: string;
  bucket: string;
  /** Where faasade's objects are in the bucket: "" (the app's own bucket) or "faasade/" (a shared one). */
  keyPrefix: string;
  /** Name prefix shared by the app's functions and queues. */
  namePrefix: string;
}

export const TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

export function rolePolicy(s: PolicyScope): object {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${s.region}:${s.account}:${resource}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Logs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [
          arn("logs", `log-group:/aws/lambda/${s.namePrefix}*`),
          arn("logs", `log-group:/aws/lambda/${s.namePrefix}*:*`),
        ],
      },
      {
        Sid: "Bucket",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: [`arn:aws:s3:::${s.bucket}/${s.keyPrefix}*`],
      },
      { Sid: "BucketList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${s.bucket}`] },
      {
        Sid: "Queues",
        Effect: "Allow",
        Action: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
          "sqs:SendMessage",
        ],
        Resource: [arn("sqs", `${s.namePrefix}*`)],
      },
      {
        Sid: "NestedCalls",
        Effect: "Allow",
        Action: ["lambda:InvokeFunction", "lambda:InvokeWithResponseStream"],
        Resource: [arn("lambda", `function:${s.namePrefix}*`)],
      },
    ],
  };
}
