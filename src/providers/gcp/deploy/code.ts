/**
 * A function's code on Cloud Functions: GenerateUploadUrl, then the zip PUT to that signed URL
 * with `content-type: application/zip` and no credentials (Google refuses them there); the
 * storage source it answers is what Create/UpdateFunction builds from.
 */
import type { Bundle } from "../../../cloud/bundle.js";
import { ProviderError } from "../../../core/errors.js";
import { gcpCall } from "../clients.js";
import type { GcpDeployContext } from "./context.js";

export interface StorageSource {
  bucket?: string | null;
  object?: string | null;
  generation?: string | number | null;
}

export async function uploadCode(ctx: GcpDeployContext, code: Bundle): Promise<StorageSource> {
  const functions = await ctx.sdk.functions();
  const [answer] = await gcpCall(`GenerateUploadUrl in ${ctx.location}`, () =>
    functions.generateUploadUrl({ parent: ctx.location }),
  );
  const url = answer.uploadUrl;
  if (!url || !answer.storageSource) throw new ProviderError("gcp GenerateUploadUrl answered without an upload URL");
  const put = await gcpCall("uploading the function's code", async () => {
    const res = await fetch(url, { method: "PUT", headers: { "content-type": "application/zip" }, body: code.zip });
    if (!res.ok)
      throw Object.assign(new Error(`the upload URL answered ${res.status}: ${(await res.text()).slice(0, 200)}`), {
        code: res.status,
      });
    return res;
  });
  await put.body?.cancel();
  return answer.storageSource as StorageSource;
}
