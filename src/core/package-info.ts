/**
 * The installed package's root folder and version, found the same way from src/ (tests, tsx),
 * dist/ (the library) and dist/bundle/ (the CLI bundle): by resolving the package's own
 * `bifrost/package.json` export, never by counting `../` from the calling file, except in the bundle,
 * whose folder under the package root its build records (BIFROST_BUNDLE_DIR).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Set by the CLI bundle's build (scripts/bundle-cli.mjs, esbuild `define`) to the bundle's folder under
 * the package root; undefined everywhere else (the library in dist/, tests from src/).
 */
declare const BIFROST_BUNDLE_DIR: string | undefined;

/** The CLI bundle's folder when this code runs from it, else null. */
export function cliBundleDir(): string | null {
  return typeof BIFROST_BUNDLE_DIR === "string" ? resolve(packageRoot(), BIFROST_BUNDLE_DIR) : null;
}

let root: string | undefined;

export function packageRoot(): string {
  // In the bundle, the package root is where the build put the bundle from: no resolution of the package's
  // own export on each call (a package.json lookup, part of every `bifrost run`).
  root ??=
    typeof BIFROST_BUNDLE_DIR === "string"
      ? resolve(dirname(fileURLToPath(import.meta.url)), relative(BIFROST_BUNDLE_DIR, "."))
      : dirname(createRequire(import.meta.url).resolve("bifrost/package.json"));
  return root;
}

/** Set by the CLI bundle's build to the package's version (read from package.json at build time). */
declare const BIFROST_PACKAGE_VERSION: string | undefined;

export function packageVersion(): string {
  // In the bundle, no package.json lookup on every command (the program declares `--version`).
  if (typeof BIFROST_PACKAGE_VERSION === "string") return BIFROST_PACKAGE_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
