/**
 * Large batches of audit rows (the `secret.read` entries a busy server queues) written by a thread of
 * their own, on a second connection to the same file: SQLite spends ~14 µs per row there (the table
 * and its three B-trees), which the thread answering HTTP no longer pays. The thread waits for the
 * write lock with SQLite's own busy timeout (blocking only itself); its transaction is `BEGIN
 * IMMEDIATE`, one per batch, like the inline path. Started on the first batch; if it cannot start or
 * dies, writes go back to the inline path (`write` answers false).
 */
import { Worker } from "node:worker_threads";
import type { AuditLogTable } from "../schema.js";

/** The thread's whole program (CommonJS, evaluated): one prepared insert, one transaction per batch. */
const PROGRAM = `
const { parentPort, workerData: w } = require("node:worker_threads");
const Database = require(w.driver);
const db = new Database(w.file, w.nativeBinding ? { nativeBinding: w.nativeBinding } : {});
db.exec("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = " + Number(w.busyTimeoutMs));
const insert = db.prepare(w.sql);
const write = db.transaction((rows) => { for (const r of rows) insert.run(r); });
parentPort.on("message", ({ id, rows }) => {
  try {
    write.immediate(rows);
    parentPort.postMessage({ id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
`;

export interface AuditWriterOptions {
  /** The database file (never `:memory:`: another connection would see another database). */
  file: string;
  /** better-sqlite3's entry module and compiled addon (see sqlite-store.ts). */
  driver: string;
  nativeBinding: string | null;
  /** The insert of one row, named parameters (sqlite-dialect.ts). */
  sql: string;
  busyTimeoutMs: number;
}

export class AuditWriter {
  readonly #opts: AuditWriterOptions;
  #worker: Worker | null = null;
  #broken = false;
  #next = 1;
  readonly #pending = new Map<number, { ok: () => void; fail: (e: Error) => void }>();

  constructor(opts: AuditWriterOptions) {
    this.#opts = opts;
  }

  /** Write `rows` in one transaction on the thread; false when the thread is not available (write them inline). */
  async write(rows: readonly AuditLogTable[]): Promise<boolean> {
    const worker = this.#start();
    if (!worker) return false;
    const id = this.#next++;
    await new Promise<void>((ok, fail) => {
      this.#pending.set(id, { ok, fail });
      worker.ref();
      worker.postMessage({ id, rows });
    });
    return true;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#broken = true;
    this.#failAll(new Error("the audit writer was closed"));
    if (worker) await worker.terminate();
  }

  #start(): Worker | null {
    if (this.#worker || this.#broken) return this.#worker;
    const { file, driver, nativeBinding, sql, busyTimeoutMs } = this.#opts;
    const worker = new Worker(PROGRAM, { eval: true, workerData: { file, driver, nativeBinding, sql, busyTimeoutMs } });
    worker.unref();
    worker.on("message", (m: { id: number; ok: boolean; message?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if (m.ok) p.ok();
      else p.fail(new Error(m.message ?? "the audit batch could not be written"));
    });
    const gone = (why: string): void => {
      if (this.#worker === worker) this.#worker = null;
      this.#broken = true;
      this.#failAll(new Error(why));
    };
    worker.on("error", (err) => gone(`the audit writer thread failed: ${err.message}`));
    worker.on("exit", () => gone("the audit writer thread exited"));
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.fail(err);
    this.#pending.clear();
  }
}
