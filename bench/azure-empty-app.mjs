// An app with no function: bundling it with the runtime measures the runtime alone.
import { App } from "faasade";

export const app = new App("empty");
