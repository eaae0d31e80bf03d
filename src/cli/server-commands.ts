/** The local deployment server's own commands. */
import type { CommandSpec } from "./command.js";

export const serverCommands: CommandSpec[] = [];
