/**
 * Files of the embedded database (trust model §9, issue: SQLite file and WAL were created 0644): the
 * data directory is created 0700, the database and its -wal/-shm 0600, with a umask that would
 * otherwise give 0644; an existing 0644 database (and WAL/SHM) is tightened at open and reported once.
 * SQLite only: PostgreSQL keeps no files here.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BifrostError } from "../../src/core/errors.js";
import { generateKeyringJson } from "../../src/crypto/keyring.js";
import { openBifrost } from "../../src/host/bootstrap.js";
import { createIntegration } from "../../src/services/integrations.js";
import { openStore } from "../../src/storage/open.js";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.js";
import { tempDir } from "../helpers/backends.js";

const mode = (p: string): string => `0${(statSync(p).mode & 0o777).toString(8)}`;

describe("file modes of the data directory and the SQLite database", () => {
  const tmp = tempDir("bifrost-files-");
  let savedUmask = 0;
  const closers: Array<() => Promise<void> | void> = [];

  beforeAll(() => {
    savedUmask = process.umask(0o022); // the common default: new files 0644, directories 0755
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  afterAll(() => {
    process.umask(savedUmask);
    tmp.cleanup();
  });

  it("a fresh BIFROST_HOME: directory 0700, bifrost.db, -wal and -shm 0600, dev keyring 0600; nothing reported", async () => {
    const home = join(tmp.dir, "fresh", ".bifrost");
    const notices: string[] = [];
    const bf = await openBifrost({ env: { BIFROST_HOME: home }, allowCreateDevKeyring: true, warn: (m) => notices.push(m) });
    closers.push(() => bf.close());
    await createIntegration(bf, { name: "Written" }); // a write, so the WAL has content
    const db = join(home, "bifrost.db");
    expect(mode(home)).toBe("0700");
    expect(mode(db)).toBe("0600");
    expect(existsSync(`${db}-wal`)).toBe(true);
    expect(mode(`${db}-wal`)).toBe("0600");
    expect(mode(`${db}-shm`)).toBe("0600");
    expect(mode(join(home, "keyring.json"))).toBe("0600");
    expect(notices.some((n) => n.includes("permissions"))).toBe(false);
  });

  it("attack: a pre-existing 0644 database, WAL and SHM (readable by every local user) are tightened to 0600 at open, reported once", async () => {
    const home = join(tmp.dir, "existing");
    mkdirSync(home, { recursive: true, mode: 0o755 });
    chmodSync(home, 0o755);
    const db = join(home, "bifrost.db");
    // An older installation's files: created with the umask (0644), WAL and SHM present (another connection holds them open).
    const old = new BetterSqlite3(db);
    old.pragma("journal_mode = WAL");
    old.exec("CREATE TABLE legacy (x TEXT); INSERT INTO legacy VALUES ('row');");
    closers.push(() => void old.close());
    for (const f of [db, `${db}-wal`, `${db}-shm`]) chmodSync(f, 0o644);
    expect([mode(db), mode(`${db}-wal`), mode(`${db}-shm`)]).toEqual(["0644", "0644", "0644"]); // positive control: readable by others

    const notices: string[] = [];
    const keyring = generateKeyringJson();
    const bf = await openBifrost({ env: { BIFROST_HOME: home, BIFROST_KEYRING: keyring }, warn: (m) => notices.push(m) });
    expect([mode(db), mode(`${db}-wal`), mode(`${db}-shm`)]).toEqual(["0600", "0600", "0600"]);
    const reports = notices.filter((n) => n.startsWith("Database file permissions"));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(`${db} (was 0644)`);
    // The operator's directory is left as it is, and named.
    expect(mode(home)).toBe("0755");
    expect(reports[0]).toContain(`chmod 700 ${home}`);
    await bf.close();

    // Opening again: nothing left to tighten, so the file report is not repeated.
    chmodSync(home, 0o700);
    const again: string[] = [];
    const bf2 = await openBifrost({ env: { BIFROST_HOME: home, BIFROST_KEYRING: keyring }, warn: (m) => again.push(m) });
    closers.push(() => bf2.close());
    expect(again.filter((n) => n.startsWith("Database file permissions"))).toEqual([]);
    expect(mode(db)).toBe("0600");
  });

  it("attack: a database file another process made group-writable (0660) is tightened too; the store still opens and reads", async () => {
    const home = join(tmp.dir, "group");
    const first = SqliteStore.open(join(home, "bifrost.db"));
    await first.migrate();
    await first.close();
    chmodSync(join(home, "bifrost.db"), 0o660);
    const notices: string[] = [];
    const store = SqliteStore.open(join(home, "bifrost.db"), { notice: (m) => notices.push(m) });
    closers.push(() => store.close());
    expect(mode(join(home, "bifrost.db"))).toBe("0600");
    expect(notices.join("\n")).toContain("(was 0660)");
    expect(await store.listIntegrations()).toEqual([]);
  });

  it("DATABASE_URL that is not PostgreSQL → BIFROST_STORAGE_CONFIG naming the variable; no file is created", () => {
    const home = join(tmp.dir, "never");
    let err: unknown = null;
    try {
      openStore({ databaseUrl: "mysql://root@127.0.0.1/bifrost", home });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BifrostError);
    expect((err as BifrostError).code).toBe("BIFROST_STORAGE_CONFIG");
    expect((err as BifrostError).message).toContain("DATABASE_URL");
    expect(existsSync(home)).toBe(false);
  });
});
