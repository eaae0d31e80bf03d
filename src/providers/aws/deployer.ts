/** The deployment capability of the aws provider: what `faasade deploy/destroy/ls --provider aws` call. */
import { byManifestOrder } from "../../cloud/apps.js";
import type { Deployer } from "../../core/provider.js";
import { type AwsDeployOptions, deployAws, destroyAws } from "./deploy/resources.js";
import { listAws } from "./list.js";

export function awsDeployer(options: AwsDeployOptions): Deployer {
  return {
    async deploy(module, apps, { log } = {}) {
      const deployed = await deployAws(module, apps, { ...options, ...(log ? { log } : {}) });
      return byManifestOrder(
        apps,
        deployed.map((d) => ({ name: d.name, resource: d.functionName, webUrl: d.webUrl })),
      );
    },
    destroy: (app, environment, { log } = {}) => destroyAws(app, environment, { ...options, ...(log ? { log } : {}) }),
    list: () => listAws(options),
  };
}
