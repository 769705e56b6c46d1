/**
 * Load the CLI bundle with V8's code cache on Node versions without `module.enableCompileCache()`
 * (before 22.1): the bundle's compiled code is kept between runs, so a command does not parse and
 * compile the same JavaScript each time. The bundle is a few CommonJS files (scripts/bundle-cli.mjs: the
 * CLI, the runtime it shares with workflows and their worker threads, the large dependencies few commands
 * load); each `.cjs` file of its folder is compiled through here when it is first required, with a cache
 * of its own.
 *
 * The cache lives in the user's own cache folder (`$XDG_CACHE_HOME` or `~/.cache`, `bifrost/code-cache`,
 * mode 0700; never a shared temp folder: a planted cache would be code run as this user). A cache file is
 * named by Node's version, the bundle file (its name and a hash of its path) and a variant: `bifrost run`
 * and the workflow workers compile other functions than the other commands, so each has its own. Inside,
 * the bundle file's identity (inode, size, modification time) comes first: a rebuilt or reinstalled bundle
 * finds a cache that is not its own, compiles, and overwrites it, so old caches never pile up. A cache is
 * written once, atomically, when the first run that had none exits; a worker thread (terminated, so no
 * exit handler runs) writes its own after an execution, through the SAVE_NOW hook. Any failure to read or
 * write it only costs speed.
 *
 * Code restored from a V8 code cache has no dynamic-import callback, so the bundle never writes
 * `import()` of its own: it asks for modules outside it through the importer installed here
 * (src/core/esm-import.ts; scripts/bundle-cli.mjs refuses a bundle that would not).
 */
"use strict";
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { homedir } = require("node:os");
const { basename, dirname, join } = require("node:path");
const vm = require("node:vm");

const { createRequire } = Module;

/** The cache folder and its parents from the cache base down (each created alone: see save). */
function cacheDirs() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return [base, join(base, "bifrost"), join(base, "bifrost", "code-cache")];
}

/** Set while a cache is waiting to be written: `globalThis[SAVE_NOW]()` writes it now instead of at exit. */
const SAVE_NOW = Symbol.for("bifrost.codeCacheSaveNow");

/** FNV-1a of a string, 8 hex digits: tells apart bundles installed in different places. */
function pathHash(path) {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Where `file`'s cache is, and the identity line its content starts with; null when the file cannot be read. */
function cacheOf(file, variant) {
  try {
    const st = statSync(file);
    const suffix = variant ? `-${variant}` : "";
    const name = `${process.version}-${process.arch}-${basename(file, ".cjs")}-${pathHash(file)}${suffix}.bin`;
    return { file: join(cacheDirs()[2], name), identity: Buffer.from(`${st.ino}-${st.size}-${Math.trunc(st.mtimeMs)}\n`) };
  } catch {
    return null;
  }
}

/** The cached data in `cache.file` when it was made from this very bundle file, else undefined. */
function load(cache) {
  try {
    const data = readFileSync(cache.file);
    const head = cache.identity.length;
    return data.length > head && data.subarray(0, head).equals(cache.identity) ? data.subarray(head) : undefined;
  } catch {
    return undefined;
  }
}

/** Caches named by the bundle file's identity, as launchers before this one wrote them: one per build, never replaced. */
const OLD_NAME = /^v\d+\.\d+\.\d+-\w+-\d+-\d+-\d+(-[a-z]+)?\.bin$/;

function save(cache, data) {
  try {
    // One level at a time, not { recursive: true }: that never returns for some paths (under /proc).
    for (const dir of cacheDirs()) {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if (err.code !== "EEXIST") throw err;
      }
    }
    const tmp = `${cache.file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([cache.identity, data]), { mode: 0o600 });
    renameSync(tmp, cache.file);
    for (const name of readdirSync(dirname(cache.file))) if (OLD_NAME.test(name)) rmSync(join(dirname(cache.file), name), { force: true });
  } catch {
    // no cache: the next run compiles again
  }
}

/**
 * `require(file)` (an absolute path to a CommonJS file), compiled with the cached code when there is one,
 * as are the other `.cjs` files of its folder this process requires later.
 * `variant` (letters only): a separate cache for a run that uses other parts of the files.
 */
function requireWithCodeCache(file, variant = "") {
  globalThis[Symbol.for("bifrost.hostImport")] = (specifier) => import(specifier);
  const folder = dirname(file);
  const cacheVariant = /^[a-z]+$/.test(variant) ? variant : "";
  /** Caches to write (made after the command ran: they then also hold the functions it compiled lazily). */
  const pending = [];
  const saveAll = () => {
    delete globalThis[SAVE_NOW];
    for (const { cache, script } of pending.splice(0)) save(cache, script.createCachedData());
  };
  process.once("exit", saveAll);

  const proto = Module.prototype;
  const compile = proto._compile;
  proto._compile = function compileWithCache(content, filename) {
    if (dirname(filename) !== folder || !filename.endsWith(".cjs")) return compile.call(this, content, filename);
    const cache = cacheOf(filename, cacheVariant);
    const cached = cache ? load(cache) : undefined;
    const script = new vm.Script(Module.wrap(content), { filename, ...(cached ? { cachedData: cached } : {}) });
    if (cache && (!cached || script.cachedDataRejected)) {
      pending.push({ cache, script });
      globalThis[SAVE_NOW] = saveAll;
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
  return require(file);
}

module.exports = { requireWithCodeCache };
