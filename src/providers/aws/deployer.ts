/** The deployment capability of the aws provider: what `faasade deploy/destroy/ls --provider aws` call. */
import { cloudDeployer } from "../../cloud/apps.js";
import type { Deployer } from "../../core/provider.js";
import { type AwsDeployOptions, deployAws, destroyAws } from "./deploy/resources.js";
import { listAws } from "./list.js";

export const awsDeployer = (options: AwsDeployOptions): Deployer =>
  cloudDeployer(options, {
    deploy: async (module, apps, o) =>
      (await deployAws(module, apps, o)).map((d) => ({ name: d.name, resource: d.functionName, webUrl: d.webUrl })),
    destroy: destroyAws,
    list: listAws,
  });
