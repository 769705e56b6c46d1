/**
 * Precompresses the built console: next to every compressible file in dist/console it writes `.br`
 * (brotli, quality 11) and `.gz` (gzip, level 9), which @fastify/static serves with
 * `preCompressed: true` when the browser accepts them. Runs at the end of `vite build` (the
 * `precompress` plugin in console/vite.config.ts); a variant that would not be smaller is not written.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".svg", ".json", ".txt", ".map"]);
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export interface Compressed {
  file: string;
  bytes: number;
  br: number | null;
  gzip: number | null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Writes `<file>.br` and `<file>.gz` for every compressible file under `dir` (stale variants removed first); returns the sizes. */
export async function precompress(dir: string): Promise<Compressed[]> {
  const files = await filesUnder(dir);
  await Promise.all(files.filter((f) => f.endsWith(".br") || f.endsWith(".gz")).map((f) => rm(f, { force: true })));
  const results: Compressed[] = [];
  for (const file of files) {
    if (!COMPRESSIBLE.has(extname(file))) continue;
    const raw = await readFile(file);
    const [b, g] = await Promise.all([
      brotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
      gz(raw, { level: 9 }),
    ]);
    const smaller = (c: Buffer) => c.length < raw.length;
    if (smaller(b)) await writeFile(`${file}.br`, b);
    if (smaller(g)) await writeFile(`${file}.gz`, g);
    results.push({ file, bytes: raw.length, br: smaller(b) ? b.length : null, gzip: smaller(g) ? g.length : null });
  }
  return results;
}
