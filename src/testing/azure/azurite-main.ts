/**
 * The process azurite runs in (azurite.ts starts it with azurite's own arguments): LokiJS, which azurite
 * keeps its metadata in, is patched (loki-speedups.ts) before azurite's entry loads it, so that finding or
 * removing one blob or message does not slow down as thousands pile up.
 */
import { createRequire } from "node:module";
import { type LokiModule, speedUpLoki } from "./loki-speedups.js";

const entry = process.env.FAASADE_AZURITE_ENTRY;
if (entry === undefined) throw new Error("faasade: azurite-main needs FAASADE_AZURITE_ENTRY (azurite's entry)");
// The copy of lokijs azurite resolves: one module instance, patched before azurite's first require of it.
const azuriteRequire = createRequire(entry);
speedUpLoki(azuriteRequire("lokijs") as LokiModule);
azuriteRequire(entry);
