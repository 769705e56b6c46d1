import { ModuleNameError } from "./errors.js";
import { MODULE_NAME } from "./names.js";

/**
 * The module (file) name: the given one or the integration name, lowercased, runs of characters other
 * than [a-z0-9_] turned into `_`. Path separators and `..` are refused outright (never normalised away).
 */
export function normalizeModuleName(input: string): string {
  if (/[/\\]/.test(input) || input.includes("..") || input.includes("\0")) {
    throw new ModuleNameError(`Module name ${JSON.stringify(input)} must not contain path separators or "..".`, { module: input });
  }
  const n = input
    .trim()
    .replace(/\.ts$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!MODULE_NAME.test(n)) {
    throw new ModuleNameError(`Module name ${JSON.stringify(input)} is not valid: after normalisation it must match /^[a-z][a-z0-9_]*$/ (got ${JSON.stringify(n)}).`, { module: input, normalized: n });
  }
  return n;
}
