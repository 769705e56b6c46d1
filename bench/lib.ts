/**
 * The benchmark harness: interleaved rounds (the cases rotate and alternate order every round, so
 * none always runs first or inherits another's GC debt), medians and percentiles, failure counts
 * (a failed sample is counted and printed, never dropped silently) and a MET/MISSED line for every
 * target. Benchmarks print their numbers with `table` and finish with `targets.report()`.
 */

/** The median (middle element of the sorted samples; NaN when empty). */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile p (0–100) of the samples; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Median of element-wise ratios a[i] / b[i] of paired rounds (run back to back, so machine noise cancels). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] ?? NaN)).filter((r) => Number.isFinite(r)));
}

export interface CaseResult {
  /** One value per successful round (what the case returned: ms, µs, ops/s …). */
  samples: number[];
  /** Rounds whose run threw. */
  failures: number;
  /** The first few failure messages (for the report). */
  errors: string[];
}

export interface InterleaveOptions {
  rounds: number;
  /** Unmeasured rounds first (default 1). */
  warmup?: number;
}

/**
 * Run every case once per round, rotating the start and alternating the direction each round
 * (ABBA for two cases). A case returns its measurement for that round; a throw counts as a failure.
 */
export async function interleave<K extends string>(cases: Record<K, () => Promise<number> | number>, opts: InterleaveOptions): Promise<Record<K, CaseResult>> {
  const names = Object.keys(cases) as K[];
  const out = Object.fromEntries(names.map((n): [K, CaseResult] => [n, { samples: [], failures: 0, errors: [] }])) as Record<K, CaseResult>;
  const warmup = opts.warmup ?? 1;
  for (let r = -warmup; r < opts.rounds; r++) {
    const k = ((r % names.length) + names.length) % names.length;
    const rotated = [...names.slice(k), ...names.slice(0, k)];
    const order = r % 2 === 0 ? rotated : rotated.reverse();
    for (const name of order) {
      try {
        const v = await cases[name]();
        if (r >= 0) out[name].samples.push(v);
      } catch (err) {
        if (r < 0) throw err; // a warm-up failure means the setup is broken: stop
        out[name].failures++;
        if (out[name].errors.length < 3) out[name].errors.push((err as Error).message);
      }
    }
  }
  return out;
}

/** Time `n` calls of fn: wall µs per call and this process's CPU µs per call. Throws on the first failed call. */
export async function timeCalls(n: number, fn: (i: number) => unknown): Promise<{ wallUs: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const c = process.cpuUsage(c0);
  return { wallUs: Number(process.hrtime.bigint() - t0) / 1e3 / n, cpuUs: (c.user + c.system) / n };
}

/** Print a Markdown table. */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.map(String).join(" | ")} |`);
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n);
}

/** Failure counts of a run, one line per case that failed (nothing printed when none did). */
export function reportFailures(results: Record<string, CaseResult>): number {
  let total = 0;
  for (const [name, r] of Object.entries(results)) {
    if (r.failures === 0) continue;
    total += r.failures;
    console.log(`FAILURES ${name}: ${r.failures} failed round(s); first: ${r.errors.join(" | ")}`);
  }
  return total;
}

/** Targets checked by a run: each prints MET or MISSED with the measured value. */
export class Targets {
  readonly #rows: Array<{ ok: boolean; line: string }> = [];

  /** `actual ≤ limit` (or `≥` with `atLeast`). NaN (nothing measured) is MISSED. */
  check(name: string, actual: number, limit: number, opts: { atLeast?: boolean; unit?: string; digits?: number } = {}): boolean {
    const ok = Number.isFinite(actual) && (opts.atLeast ? actual >= limit : actual <= limit);
    const unit = opts.unit ?? "";
    const d = opts.digits ?? 2;
    this.#rows.push({ ok, line: `${name}: ${fmt(actual, d)}${unit} (target ${opts.atLeast ? "≥" : "≤"} ${fmt(limit, d)}${unit})` });
    return ok;
  }

  /** Failures must be zero: a target like any other. */
  noFailures(name: string, failures: number): boolean {
    const ok = failures === 0;
    this.#rows.push({ ok, line: `${name}: ${failures} failure(s) (target 0)` });
    return ok;
  }

  /** Print every target and set a non-zero exit code when one was missed. */
  report(): boolean {
    console.log("");
    for (const r of this.#rows) console.log(`target ${r.ok ? "MET   " : "MISSED"} ${r.line}`);
    const all = this.#rows.every((r) => r.ok);
    if (!all) process.exitCode = 1;
    return all;
  }
}
