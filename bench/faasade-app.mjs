// The faasade app under test. This module only defines the app: every local container
// imports it to find the function, so it must not run any benchmark code itself.
import { App } from "faasade";
import { local } from "faasade/local";
import funcs from "./funcs.cjs";

export const app = new App("bench", { provider: local({ maxContainers: 2 }) });
export const square = app.function(funcs.square, { maxContainers: 2 });
export const burn = app.function(funcs.burn, { maxContainers: 2 });
