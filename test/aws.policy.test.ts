// Least privilege of the execution role faasade makes (src/providers/aws/deploy/policy.ts): the
// documents themselves as snapshots, every resource named, and each action one that a request
// of the runtime (or Lambda's own machinery acting with the role) needs. The requests are read
// from the sources the runtime bundles, so that a new AWS call there fails this test until the
// table below says what it needs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { POLICY_BUDGET, type PolicyScope, TRUST_POLICY, rolePolicy } from "../src/providers/aws/deploy/policy.js";

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}
const statements = (scope: PolicyScope) => (rolePolicy(scope) as { Statement: Statement[] }).Statement;

const scope: PolicyScope = {
  region: "eu-west-1",
  account: "123456789012",
  bucket: "faasade-main-shop",
  keyPrefix: "",
  namePrefix: "faasade-main-shop-",
  functions: ["faasade-main-shop-checkout", "faasade-main-shop-resize"],
};

/**
 * Each AWS request the runtime's modules make, and the IAM action it needs; `undefined`: not
 * granted (the request is a control-plane call a function makes only if its code asks for it:
 * such code needs a role of its own, `roleArn`).
 */
const NEEDED: Record<string, string | undefined> = {
  GetObjectCommand: "s3:GetObject",
  HeadObjectCommand: "s3:GetObject",
  PutObjectCommand: "s3:PutObject",
  CreateMultipartUploadCommand: "s3:PutObject",
  UploadPartCommand: "s3:PutObject",
  CompleteMultipartUploadCommand: "s3:PutObject",
  DeleteObjectsCommand: "s3:DeleteObject",
  ListObjectsV2Command: "s3:ListBucket",
  SendMessageBatchCommand: "sqs:SendMessage",
  GetQueueUrlCommand: "sqs:GetQueueUrl",
  GetQueueAttributesCommand: "sqs:GetQueueAttributes",
  InvokeCommand: "lambda:InvokeFunction",
  InvokeWithResponseStreamCommand: "lambda:InvokeFunction",
  // getCurrentStats, updateAutoscaler and getWebUrl from inside a function; FunctionCall.fromId of
  // a call this runtime did not make looks through ListBuckets (s3:ListAllMyBuckets, which only takes "*").
  GetProvisionedConcurrencyConfigCommand: undefined,
  PutProvisionedConcurrencyConfigCommand: undefined,
  DeleteProvisionedConcurrencyConfigCommand: undefined,
  PutFunctionConcurrencyCommand: undefined,
  DeleteFunctionConcurrencyCommand: undefined,
  GetFunctionUrlConfigCommand: undefined,
  ListBucketsCommand: undefined,
};
/** What Lambda itself does with the function's role: the SQS event source mapping, and the function's logs. */
const PLATFORM = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "logs:CreateLogGroup",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
];
const RUNTIME_SOURCES = ["s3-store", "sqs-queue", "lambda-invoker", "platform", "list"].map(
  (m) => new URL(`../src/providers/aws/${m}.ts`, import.meta.url),
);

describe("the execution role's policy (least privilege)", () => {
  it("the trust policy lets Lambda alone assume the role", () => {
    expect(TRUST_POLICY).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {
              "Service": "lambda.amazonaws.com",
            },
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it("the role's policy for an app of two functions in its own bucket", () => {
    expect(rolePolicy(scope)).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": [
              "logs:CreateLogGroup",
              "logs:CreateLogStream",
              "logs:PutLogEvents",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/faasade-main-shop-checkout",
              "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/faasade-main-shop-checkout:*",
              "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/faasade-main-shop-resize",
              "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/faasade-main-shop-resize:*",
            ],
            "Sid": "Logs",
          },
          {
            "Action": [
              "s3:GetObject",
              "s3:PutObject",
              "s3:DeleteObject",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:s3:::faasade-main-shop/*",
            ],
            "Sid": "Bucket",
          },
          {
            "Action": [
              "s3:ListBucket",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:s3:::faasade-main-shop",
            ],
            "Sid": "BucketList",
          },
          {
            "Action": [
              "sqs:ReceiveMessage",
              "sqs:DeleteMessage",
              "sqs:GetQueueAttributes",
              "sqs:GetQueueUrl",
              "sqs:SendMessage",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:sqs:eu-west-1:123456789012:faasade-main-shop-checkout",
              "arn:aws:sqs:eu-west-1:123456789012:faasade-main-shop-resize",
            ],
            "Sid": "Queues",
          },
          {
            "Action": [
              "lambda:InvokeFunction",
            ],
            "Effect": "Allow",
            "Resource": [
              "arn:aws:lambda:eu-west-1:123456789012:function:faasade-main-shop-checkout",
              "arn:aws:lambda:eu-west-1:123456789012:function:faasade-main-shop-checkout:*",
              "arn:aws:lambda:eu-west-1:123456789012:function:faasade-main-shop-resize",
              "arn:aws:lambda:eu-west-1:123456789012:function:faasade-main-shop-resize:*",
            ],
            "Sid": "NestedCalls",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it("in a shared bucket: faasade's keys only, and the listing limited to them", () => {
    const shared = statements({ ...scope, bucket: "team-data", keyPrefix: "faasade/" });
    expect(shared.find((s) => s.Sid === "Bucket")?.Resource).toEqual(["arn:aws:s3:::team-data/faasade/*"]);
    expect(shared.find((s) => s.Sid === "BucketList")).toMatchInlineSnapshot(`
      {
        "Action": [
          "s3:ListBucket",
        ],
        "Condition": {
          "StringLike": {
            "s3:prefix": [
              "faasade/*",
            ],
          },
        },
        "Effect": "Allow",
        "Resource": [
          "arn:aws:s3:::team-data",
        ],
        "Sid": "BucketList",
      }
    `);
  });

  it("every statement allows, and names this app's resources: no '*' resource, no wildcard action", () => {
    for (const s of statements(scope)) {
      expect(s.Effect).toBe("Allow");
      expect(s.Action.every((a) => /^[a-z0-9]+:[A-Za-z]+$/.test(a))).toBe(true);
      for (const r of s.Resource) {
        expect(r).not.toBe("*");
        if (s.Sid === "Bucket" || s.Sid === "BucketList") expect(r).toMatch(/^arn:aws:s3:::faasade-main-shop(\/\*)?$/);
        // Everything else is in this account and region, and names one of the app's functions.
        else expect(r).toMatch(/^arn:aws:[a-z]+:eu-west-1:123456789012:.*faasade-main-shop-(checkout|resize)(:\*)?$/);
      }
    }
  });

  it("an app whose name starts with this one's is out of reach (functions named, not a prefix)", () => {
    const resources = statements(scope).flatMap((s) => s.Resource);
    const other = "faasade-main-shop-admin-login";
    const matches = (pattern: string, name: string) =>
      new RegExp(
        `^${pattern
          .split("*")
          .map((p) => p.replace(/[.?+^$|()[\]{}\\]/g, "\\$&"))
          .join(".*")}$`,
      ).test(name);
    expect(resources.some((r) => matches(r, `arn:aws:lambda:eu-west-1:123456789012:function:${other}:live`))).toBe(false);
    expect(resources.some((r) => matches(r, `arn:aws:sqs:eu-west-1:123456789012:${other}`))).toBe(false);
    expect(
      resources.some((r) => matches(r, "arn:aws:lambda:eu-west-1:123456789012:function:faasade-main-shop-resize:live")),
    ).toBe(true);
  });

  it("an app too large to name in IAM's policy size is granted by its name prefix, within the size", () => {
    const many = Array.from({ length: 80 }, (_, i) => `faasade-main-shop-function-number-${i}`);
    const policy = rolePolicy({ ...scope, functions: many });
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(POLICY_BUDGET);
    const queues = (policy as { Statement: Statement[] }).Statement.find((s) => s.Sid === "Queues");
    expect(queues?.Resource).toEqual(["arn:aws:sqs:eu-west-1:123456789012:faasade-main-shop-*"]);
  });

  it("each action is one a runtime request or Lambda's own machinery needs, and each such need is granted", () => {
    const made = new Set(
      RUNTIME_SOURCES.flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/\b([A-Z][A-Za-z0-9]+Command)\b/g)].map((m) => m[1] as string),
      ),
    );
    // Every request the runtime can make is in the table: a new one must say what it needs.
    expect([...made].filter((c) => !(c in NEEDED))).toEqual([]);
    const needed = new Set([...[...made].flatMap((c) => NEEDED[c] ?? []), ...PLATFORM]);
    const granted = new Set(statements(scope).flatMap((s) => s.Action));
    expect([...granted].sort()).toEqual([...needed].sort());
  });
});
