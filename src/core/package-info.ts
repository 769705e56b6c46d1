/**
 * The installed package's root folder and version, found the same way from src/ (tests, tsx),
 * dist/ (the library) and dist/bundle/ (the CLI bundle): by resolving the package's own
 * `bifrost/package.json` export, never by counting `../` from the calling file.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";

/**
 * Set by the CLI bundle's build (scripts/bundle-cli.mjs, esbuild `define`) to the bundle's folder under
 * the package root; undefined everywhere else (the library in dist/, tests from src/).
 */
declare const BIFROST_BUNDLE_DIR: string | undefined;

/** The CLI bundle's folder when this code runs from it, else null. */
export function cliBundleDir(): string | null {
  return typeof BIFROST_BUNDLE_DIR === "string" ? resolve(packageRoot(), BIFROST_BUNDLE_DIR) : null;
}

export function packageRoot(): string {
  return dirname(createRequire(import.meta.url).resolve("bifrost/package.json"));
}

/** Set by the CLI bundle's build to the package's version (read from package.json at build time). */
declare const BIFROST_PACKAGE_VERSION: string | undefined;

export function packageVersion(): string {
  // In the bundle, no package.json lookup on every command (the program declares `--version`).
  if (typeof BIFROST_PACKAGE_VERSION === "string") return BIFROST_PACKAGE_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("bifrost/package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
