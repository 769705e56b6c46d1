/**
 * `npm ci` / `npm install` lifecycle: build dist/ (server and console) on a development install.
 * A production install (`npm ci --omit=dev`) has neither TypeScript nor Vite, so the build is skipped:
 * dist/ then comes from the package tarball (`npm pack` ships it) or from an earlier full install.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const has = (pkg) => {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
};

if (!has("typescript") || !has("vite")) {
  const built = existsSync(new URL("../dist/index.js", import.meta.url)) && existsSync(new URL("../dist/console/index.html", import.meta.url));
  process.stderr.write(
    built
      ? "bifrost: production install (no devDependencies): using the dist/ that is already built.\n"
      : "bifrost: production install (no devDependencies) and no dist/: the build needs devDependencies. Install from the package (`npm pack`), or run a full `npm ci` first and then `npm prune --omit=dev`.\n",
  );
  process.exit(0);
}
const r = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
process.exit(r.status ?? 1);
