// Contract tests of what a function's options make on AWS, against a test double of the control
// plane (fixtures/aws-control-plane.ts; no emulator exists for it) and a stand-in bundler:
// providerOptions.aws (checked before anything is made), and web function URLs, public unless
// `web: { auth: true }`.
import * as IAM from "@aws-sdk/client-iam";
import * as L from "@aws-sdk/client-lambda";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { ExecutionError, InvalidError } from "../src/core/errors.js";
import { type AppManifest, type FunctionManifest, manifestOf } from "../src/core/manifest.js";
import { deployApps } from "../src/providers/aws/deploy/resources.js";
import {
  ACCOUNT,
  FakeAccount,
  REGION,
  fakeBundler,
  iam,
  lambda,
  names,
  s3,
  sent,
  sqs,
  writes,
} from "./fixtures/aws-control-plane.js";
import * as fixture from "./fixtures/aws-app.mjs";

process.env.AWS_REGION = REGION;
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";

const manifest: AppManifest = manifestOf(fixture.app);
const SQUARE = "faasade-main-aws-app-square";
const HELLO = "faasade-main-aws-app-hello";
const LAYER = `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:sharp:3`;
const OWN_ROLE = `arn:aws:iam::${ACCOUNT}:role/square-runner`;

function withFn(fn: string, options: Partial<FunctionManifest["options"]>, base: AppManifest = manifest): AppManifest {
  return { ...base, functions: base.functions.map((f) => (f.name === fn ? { ...f, options: { ...f.options, ...options } } : f)) };
}
const withAws = (fn: string, aws: unknown, base: AppManifest = manifest) => withFn(fn, { providerOptions: { aws } }, base);
const only = (...fns: string[]): AppManifest => ({
  ...manifest,
  functions: manifest.functions.filter((f) => fns.includes(f.name)),
});

let account: FakeAccount;
beforeEach(() => {
  account = new FakeAccount().install();
});
const forget = () => {
  for (const m of [lambda, s3, sqs, iam]) m.resetHistory();
};

describe("aws deploy contract: providerOptions.aws", { timeout: 30_000 }, () => {
  const everything = {
    memoryMb: 2048,
    architecture: "x86_64",
    layers: [LAYER],
    environment: { EXTRA: "yes", SHARED: "from aws" },
    role: OWN_ROLE,
    ephemeralStorageMb: 4096,
  };

  it("each key sets its Lambda setting; code is bundled once per architecture used", async () => {
    const app = withAws("square", everything, withFn("square", { env: { SHARED: "from env", OWN: "1" } }));
    const bundler = fakeBundler();
    await deployApps([app], {}, bundler);
    expect(bundler.built.sort()).toEqual(["arm64", "x86_64"]);
    const created = lambda.commandCalls(L.CreateFunctionCommand).map((c) => c.args[0].input);
    const square = created.find((c) => c.FunctionName === SQUARE);
    expect(square).toMatchObject({
      MemorySize: 2048,
      Architectures: ["x86_64"],
      Layers: [LAYER],
      Role: OWN_ROLE,
      EphemeralStorage: { Size: 4096 },
    });
    expect(square?.Environment?.Variables).toMatchObject({
      OWN: "1",
      EXTRA: "yes",
      SHARED: "from aws",
      FAASADE_FUNCTION: "square",
    });
    const x86 = (await bundler("x86_64")).hash;
    expect(square?.Tags?.["faasade:code-hash"]).toBe(x86);
    const other = created.find((c) => c.FunctionName === "faasade-main-aws-app-fail");
    expect(other).toMatchObject({ MemorySize: 1024, Architectures: ["arm64"], Layers: [], EphemeralStorage: { Size: 512 } });
    expect(other?.Role).toBe(`arn:aws:iam::${ACCOUNT}:role/faasade-main-aws-app`);
  });

  it("when every function names its role, faasade makes no role", async () => {
    await deployApps([withAws("square", { role: OWN_ROLE }, only("square"))], {}, fakeBundler());
    expect(iam).toHaveReceivedCommandTimes(IAM.GetRoleCommand, 0);
    expect(iam).toHaveReceivedCommandTimes(IAM.CreateRoleCommand, 0);
  });

  it("a redeploy without them puts the defaults back: memory, architecture, no layers, 512 MB of /tmp, the app's role", async () => {
    await deployApps([withAws("square", everything)], {}, fakeBundler());
    forget();
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.UpdateFunctionCodeCommand, { FunctionName: SQUARE, Architectures: ["arm64"] });
    const update = lambda.commandCalls(L.UpdateFunctionConfigurationCommand).map((c) => c.args[0].input);
    expect(update).toHaveLength(1);
    expect(update[0]).toMatchObject({
      FunctionName: SQUARE,
      MemorySize: 1024,
      Layers: [],
      EphemeralStorage: { Size: 512 },
      Role: `arn:aws:iam::${ACCOUNT}:role/faasade-main-aws-app`,
    });
    expect(Object.keys(update[0]?.Environment?.Variables ?? {})).not.toContain("EXTRA");
    forget();
    await deployApps([manifest], {}, fakeBundler());
    expect(names(writes())).toEqual([]);
  });

  const bad: [string, AppManifest, RegExp][] = [
    [
      "an unknown key",
      withAws("square", { memory: 2048 }),
      /^function "square": unknown providerOptions\.aws key "memory"; the known keys are memoryMb, architecture, layers, environment, role, ephemeralStorageMb$/,
    ],
    ["aws not an object", withAws("square", "big"), /^function "square": providerOptions\.aws must be an object, got "big"$/],
    [
      "memoryMb out of range",
      withAws("square", { memoryMb: 64 }),
      /^function "square": providerOptions\.aws\.memoryMb must be an integer between 128 and 10240, got 64$/,
    ],
    [
      "the function's memoryMb out of Lambda's range",
      withFn("square", { memoryMb: 20_000 }),
      /^function "square": memoryMb \(Lambda's range\) must be an integer between 128 and 10240, got 20000$/,
    ],
    [
      "an unknown architecture",
      withAws("square", { architecture: "arm" }),
      /^function "square": providerOptions\.aws\.architecture must be "arm64" or "x86_64", got "arm"$/,
    ],
    [
      "a layer that is no ARN",
      withAws("square", { layers: ["sharp"] }),
      /^function "square": providerOptions\.aws\.layers\[0\] must be a layer version ARN .*, got "sharp"$/,
    ],
    [
      "six layers",
      withAws("square", { layers: [1, 2, 3, 4, 5, 6].map((v) => `${LAYER.slice(0, -1)}${v}`) }),
      /^function "square": providerOptions\.aws\.layers: Lambda takes at most 5 layers, got 6$/,
    ],
    [
      "a role that is no ARN",
      withAws("square", { role: "runner" }),
      /^function "square": providerOptions\.aws\.role must be an IAM role ARN .*, got "runner"$/,
    ],
    [
      "ephemeralStorageMb out of range",
      withAws("square", { ephemeralStorageMb: 100 }),
      /^function "square": providerOptions\.aws\.ephemeralStorageMb must be an integer between 512 and 10240, got 100$/,
    ],
    [
      "a FAASADE_ variable",
      withAws("square", { environment: { FAASADE_APP: "x" } }),
      /^function "square": providerOptions\.aws\.environment\.FAASADE_APP: FAASADE_\* variables are faasade's own and cannot be set$/,
    ],
    [
      "a variable Lambda sets",
      withAws("square", { environment: { AWS_REGION: "x" } }),
      /^function "square": providerOptions\.aws\.environment\.AWS_REGION: AWS_REGION is set by Lambda itself and cannot be set$/,
    ],
    [
      "a variable that is no string",
      withAws("square", { environment: { N: 1 } }),
      /^function "square": providerOptions\.aws\.environment\.N must be a string, got 1$/,
    ],
    [
      "a timeout above Lambda's",
      withFn("hang", { timeoutMs: 900_000 }),
      /^function "hang": Lambda runs at most 15 minutes; timeoutMs 900000 is above 899000$/,
    ],
  ];
  for (const [what, app, message] of bad) {
    it(`${what}: InvalidError naming the function and key, before any request or bundling`, async () => {
      const bundler = fakeBundler();
      // The bad function is in the second app: every manifest is checked before the first is deployed.
      const error = await deployApps([only("square", "fail"), app], {}, bundler).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidError);
      expect((error as Error).message).toMatch(message);
      expect(sent()).toEqual([]);
      expect(bundler.built).toEqual([]);
    });
  }

  it("bad deploy options are refused before any request", async () => {
    await expect(deployApps([manifest], { architecture: "arm" as never }, fakeBundler())).rejects.toThrow(
      /^aws deploy: architecture must be "arm64" or "x86_64", got "arm"$/,
    );
    await expect(deployApps([manifest], { retentionDays: 0 }, fakeBundler())).rejects.toThrow(InvalidError);
    await expect(deployApps([manifest], { roleArn: "runner" }, fakeBundler())).rejects.toThrow(/roleArn must be an IAM role ARN/);
    expect(sent()).toEqual([]);
  });
});

describe("aws deploy contract: web function URLs", { timeout: 30_000 }, () => {
  const authed = withFn("hello", { web: { method: "POST", auth: true } });
  const publicStatements = [
    {
      FunctionName: HELLO,
      Qualifier: "live",
      StatementId: "faasade-public-url",
      Action: "lambda:InvokeFunctionUrl",
      Principal: "*",
      FunctionUrlAuthType: "NONE" as const,
    },
    {
      FunctionName: HELLO,
      Qualifier: "live",
      StatementId: "faasade-public-url-invoke",
      Action: "lambda:InvokeFunction",
      Principal: "*",
      InvokedViaFunctionUrl: true,
    },
  ];

  it("a web function's URL is public: auth type NONE and the permissions Lambda requires for it, on the alias", async () => {
    const [hello] = (await deployApps([manifest], {}, fakeBundler())).filter((d) => d.name === "hello");
    expect(hello?.webUrl).toBe(`https://${HELLO}.lambda-url.${REGION}.on.aws/`);
    expect(lambda).toHaveReceivedCommandWith(L.CreateFunctionUrlConfigCommand, {
      FunctionName: HELLO,
      Qualifier: "live",
      AuthType: "NONE",
      InvokeMode: "BUFFERED",
    });
    expect(lambda.commandCalls(L.AddPermissionCommand).map((c) => c.args[0].input)).toEqual(publicStatements);
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionUrlConfigCommand, 1); // only web functions have one
  });

  it("web: { auth: true } is an AWS_IAM URL with no public permission", async () => {
    await deployApps([authed], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.CreateFunctionUrlConfigCommand, { FunctionName: HELLO, AuthType: "AWS_IAM" });
    expect(lambda).toHaveReceivedCommandTimes(L.AddPermissionCommand, 0);
  });

  it("switching to auth: true updates the URL first, then removes the public statements", async () => {
    await deployApps([manifest], {}, fakeBundler());
    forget();
    await deployApps([authed], {}, fakeBundler());
    const changes = writes().filter((c) => c.input.FunctionName === HELLO);
    expect(names(changes)).toEqual(["UpdateFunctionUrlConfig", "RemovePermission", "RemovePermission"]);
    expect(changes[0]?.input).toEqual({ FunctionName: HELLO, Qualifier: "live", AuthType: "AWS_IAM" });
    expect(changes.slice(1).map((c) => c.input.StatementId)).toEqual(["faasade-public-url", "faasade-public-url-invoke"]);
    expect(account.fn(HELLO).statements.size).toBe(0);
  });

  it("switching back to public adds the statements first, then updates the URL", async () => {
    await deployApps([authed], {}, fakeBundler());
    forget();
    await deployApps([manifest], {}, fakeBundler());
    const changes = writes().filter((c) => c.input.FunctionName === HELLO);
    expect(names(changes)).toEqual(["AddPermission", "AddPermission", "UpdateFunctionUrlConfig"]);
    expect(changes[2]?.input).toEqual({ FunctionName: HELLO, Qualifier: "live", AuthType: "NONE" });
  });

  it("a statement that exists already (ResourceConflictException for its id) is fine", async () => {
    await deployApps([manifest], {}, fakeBundler());
    forget();
    lambda.on(L.GetPolicyCommand).rejects(Object.assign(new Error("none"), { name: "ResourceNotFoundException" }));
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandTimes(L.AddPermissionCommand, 2);
  });

  it("a function that is no longer a web function loses its URL and public statements", async () => {
    await deployApps([manifest], {}, fakeBundler());
    forget();
    await deployApps([withFn("hello", { web: undefined })], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.DeleteFunctionUrlConfigCommand, { FunctionName: HELLO, Qualifier: "live" });
    expect(lambda).toHaveReceivedCommandTimes(L.RemovePermissionCommand, 2);
    expect(account.fn(HELLO).url).toBeUndefined();
  });

  it("an SDK that drops InvokedViaFunctionUrl: the statement it made is taken back and deploy says why", async () => {
    lambda.on(L.AddPermissionCommand).callsFake(async (input: L.AddPermissionCommandInput) => {
      const statement = { Sid: input.StatementId, Effect: "Allow", Principal: "*", Action: input.Action };
      account.fn(input.FunctionName).statements.set(input.StatementId ?? "", statement);
      return { Statement: JSON.stringify(statement) };
    });
    await expect(deployApps([only("hello")], {}, fakeBundler())).rejects.toThrow(ExecutionError);
    expect(lambda).toHaveReceivedCommandWith(L.RemovePermissionCommand, {
      FunctionName: HELLO,
      Qualifier: "live",
      StatementId: "faasade-public-url-invoke",
    });
    expect([...account.fn(HELLO).statements.keys()]).toEqual(["faasade-public-url"]);
  });
});
