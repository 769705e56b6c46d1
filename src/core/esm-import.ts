/**
 * `import(specifier)` for modules outside the CLI bundle (workflow files, tsx, the spec parsers, pino).
 * On Node < 22.1 bin/code-cache.js compiles the CommonJS CLI bundle with V8's code cache, and code
 * restored from that cache has no dynamic-import callback: `import()` written inside the bundle would
 * throw. The launcher therefore installs an importer of its own under HOST_IMPORT, and every dynamic
 * import of something outside the bundle goes through here (scripts/bundle-cli.mjs refuses a bundle
 * with any other). Everywhere else (src/, dist/, Node ≥ 22.1) this is a plain `import()`.
 */
const HOST_IMPORT = Symbol.for("bifrost.hostImport");

type Importer = (specifier: string) => Promise<unknown>;

export function importEsm<T>(specifier: string): Promise<T> {
  const host = (globalThis as { [HOST_IMPORT]?: Importer })[HOST_IMPORT];
  return (host ? host(specifier) : import(specifier)) as Promise<T>;
}
