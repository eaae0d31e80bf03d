/**
 * The deployment capability of the local deployment: `faasade deploy` starts the server under
 * FAASADE_HOME in the background if none answers, then hands it each app's manifest. `list`
 * works with the server stopped too: it reads the stored apps from the database, read-only.
 */
import type { AppManifest } from "../../../core/manifest.js";
import type { DeployedApp, Deployer } from "../../../core/provider.js";
import type { HomePaths } from "./home.js";
import { ensureServer, serverAnswers } from "./process.js";

interface ControlApi {
  url(): string | undefined;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function localDeployer(paths: HomePaths, api: ControlApi): Deployer {
  return {
    async deploy(_module, apps, { log } = {}) {
      await ensureServer(paths, () => log?.("starting the deployment server"));
      const out = [];
      for (const app of apps) {
        log?.(`deploying ${app.app} (${app.functions.length} functions)`);
        await api.call("POST", "/v1/apps", app);
        out.push({
          app,
          functions: app.functions.map((f) => ({ name: f.name, webUrl: webUrl(api, app, f.name, f.options.web) })),
        });
      }
      return out;
    },
    async destroy(app, environment) {
      await api.call("DELETE", `/v1/apps/${encodeURIComponent(environment)}/${encodeURIComponent(app)}`);
    },
    async list() {
      if (await serverAnswers(paths)) {
        const served = await api.call<DeployedApp[]>("GET", "/v1/apps");
        return served.map((a) => ({ ...a, serving: true }));
      }
      const { storedApps } = await import("./store.js"); // the SQLite store only where a listing needs it
      return (await storedApps(paths.db)).map((a) => ({ ...a, serving: false }));
    },
  };
}

function webUrl(api: ControlApi, app: AppManifest, fn: string, web: unknown): string | undefined {
  return web ? `${api.url()}/web/${app.environment}/${app.app}/${fn}` : undefined;
}
