import type pg from "pg";

/**
 * Statements of a refresh-lock transaction that need no round trip of their own. Appends to the
 * audit trail and the OAuth event log (nothing in the transaction reads them back) and an opening
 * BEGIN are held and sent with the next statement, or with the COMMIT (one simple-protocol query), in
 * the order they were made, so statement order never changes. A held statement that fails fails the
 * query it rode with, which aborts the transaction, exactly as if it had been sent on its own.
 */
const APPEND = /^insert into "(audit_log|oauth_events|oauth_webhook_deliveries)" /i;

/**
 * The statement with its `$n` parameters written as escaped literals, or null when a parameter is not
 * a string, number or boolean (pg sends those as untyped text, which a quoted literal also is).
 */
function inlined(client: pg.PoolClient, text: string, params: readonly unknown[]): string | null {
  const literals: string[] = [];
  for (const p of params) {
    if (p === null) literals.push("NULL");
    else if (typeof p === "string" || typeof p === "number" || typeof p === "boolean") literals.push(client.escapeLiteral(String(p)));
    else return null;
  }
  return text.replace(/\$(\d+)/g, (_, n: string) => literals[Number(n) - 1] ?? "NULL");
}

/** A connection facade for Kysely: appends are held; any other statement goes out with what is held. */
export class HeldStatements {
  readonly #client: pg.PoolClient;
  #held: string[] = [];

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  /** Hold a statement written out in full (no parameters) for the next round trip. */
  hold(statement: string): void {
    this.#held.push(statement);
  }

  readonly query = async (text: string, params: readonly unknown[] = []): Promise<pg.QueryResult> => {
    if (APPEND.test(text) && !/\breturning\b/i.test(text)) {
      const statement = inlined(this.#client, text, params);
      if (statement !== null) {
        this.#held.push(statement);
        return { command: "INSERT", rowCount: 0, rows: [], oid: 0, fields: [] };
      }
    }
    if (this.#held.length === 0) return this.#client.query(text, [...params]);
    const statement = inlined(this.#client, text, params);
    if (statement === null) {
      await this.#client.query(this.take());
      return this.#client.query(text, [...params]);
    }
    const results = (await this.#client.query(`${this.take()}${statement}`)) as unknown as pg.QueryResult[];
    return results[results.length - 1] as pg.QueryResult;
  };

  /** What is held, as statements to put before the next one ("" when nothing is), and forget it. */
  take(): string {
    const s = this.#held.map((x) => `${x}; `).join("");
    this.#held = [];
    return s;
  }
}
