import type { Command } from "commander";
import { cliWarn } from "../context.js";
import { emit, type JsonFlag, say } from "../output.js";

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("create or upgrade the database schema, then check the keyring against it")
    .option("--json", "machine-readable output")
    .action(async (opts: JsonFlag) => {
      const [{ openCore, bifrostHome }, { describeStore, openStore }] = await Promise.all([import("../../host/bootstrap.js"), import("../../storage/open.js")]);
      const location = { databaseUrl: process.env.DATABASE_URL || undefined, home: bifrostHome(process.env) };
      const store = openStore(location, { notice: cliWarn });
      let applied: string[];
      try {
        applied = (await store.migrate()).applied;
      } catch (err) {
        await store.close().catch(() => undefined);
        throw err;
      }
      // Verifies (or, on first use, creates) the keyring; closes the store in every case.
      const bf = await openCore({ store, warn: cliWarn });
      await bf.close();
      const description = describeStore(location);
      emit(opts, { store: description, applied, keyring: bf.keyringOrigin }, () =>
        say(applied.length ? `${description}: applied ${applied.length} migration(s): ${applied.join(", ")}.` : `${description}: up to date.`),
      );
    });
}
