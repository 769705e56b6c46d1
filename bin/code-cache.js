/**
 * Load the CLI bundle with V8's code cache on Node versions without `module.enableCompileCache()`
 * (before 22.1): the bundle's compiled code is kept between runs, so a command does not parse and
 * compile the same 2 MB of JavaScript each time. The cache lives in the user's own cache folder
 * (`$XDG_CACHE_HOME` or `~/.cache`, `bifrost/code-cache`, mode 0700; never a shared temp folder: a
 * planted cache would be code run as this user), is keyed by Node's version and the bundle file's
 * identity (inode, size, modification time) and a variant: `bifrost run` and the workflow workers
 * compile other functions than the other commands, so each has its own. It is written once, atomically,
 * when the first run that had none exits; a worker thread (terminated, so no exit handler runs) writes
 * its own after its first execution, through the SAVE_NOW hook. Any failure to read or write it only
 * costs speed.
 *
 * Code restored from a V8 code cache has no dynamic-import callback, so the bundle never writes
 * `import()` of its own: it asks for modules outside it through the importer installed here
 * (src/core/esm-import.ts; scripts/bundle-cli.mjs refuses a bundle that would not).
 */
"use strict";
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { homedir } = require("node:os");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const { createRequire } = Module;

/** The cache folder and its parents from the cache base down (each created alone: see save). */
function cacheDirs() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return [base, join(base, "bifrost"), join(base, "bifrost", "code-cache")];
}

/** Set while a cache is waiting to be written: `globalThis[SAVE_NOW]()` writes it now instead of at exit. */
const SAVE_NOW = Symbol.for("bifrost.codeCacheSaveNow");

function cacheFileFor(file, variant) {
  try {
    const st = statSync(file);
    const suffix = variant ? `-${variant}` : "";
    return join(cacheDirs()[2], `${process.version}-${process.arch}-${st.ino}-${st.size}-${Math.trunc(st.mtimeMs)}${suffix}.bin`);
  } catch {
    return null;
  }
}

function save(cacheFile, data) {
  try {
    // One level at a time, not { recursive: true }: that never returns for some paths (under /proc).
    for (const dir of cacheDirs()) {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (err) {
        if (err.code !== "EEXIST") throw err;
      }
    }
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, cacheFile);
  } catch {
    // no cache: the next run compiles again
  }
}

/**
 * `require(file)` (an absolute path to a CommonJS file), compiled with the cached code when there is one.
 * `variant` (letters only): a separate cache for a run that uses other parts of the file.
 */
function requireWithCodeCache(file, variant = "") {
  globalThis[Symbol.for("bifrost.hostImport")] = (specifier) => import(specifier);
  const cacheFile = cacheFileFor(file, /^[a-z]+$/.test(variant) ? variant : "");
  let cached;
  if (cacheFile) {
    try {
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
  }
  const proto = Module.prototype;
  const compile = proto._compile;
  proto._compile = function compileWithCache(content, filename) {
    if (filename !== file) return compile.call(this, content, filename);
    proto._compile = compile;
    const script = new vm.Script(Module.wrap(content), {
      filename,
      ...(cached ? { cachedData: cached } : {}),
    });
    if (cacheFile && (!cached || script.cachedDataRejected)) {
      // After the command ran: the cache then also holds the functions it compiled lazily.
      let saved = false;
      const saveOnce = () => {
        if (saved) return;
        saved = true;
        delete globalThis[SAVE_NOW];
        save(cacheFile, script.createCachedData());
      };
      globalThis[SAVE_NOW] = saveOnce;
      process.once("exit", saveOnce);
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
  try {
    return require(file);
  } finally {
    proto._compile = compile;
  }
}

module.exports = { requireWithCodeCache };
