import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export interface CallerResult {
  token?: string;
  error?: string;
  ms: number;
}

const WORKER = fileURLToPath(new URL("./race-worker.ts", import.meta.url));

/** P worker processes (node --import tsx) on the same database; `round()` fires N gets in each at once. */
export async function startFleet(
  p: number,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ round(i: number): Promise<CallerResult[]>; roundOn(child: number, i: number): Promise<CallerResult[]>; stop(): Promise<void>; children: ChildProcess[] }> {
  const children = Array.from({ length: p }, () => fork(WORKER, args, { execArgv: ["--import", "tsx"], env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  await Promise.all(children.map((c) => once(c, "message")));
  return {
    children,
    async round(i: number) {
      const replies = children.map((c) => once(c, "message") as Promise<[{ results: CallerResult[] }]>);
      for (const c of children) c.send({ go: i });
      return (await Promise.all(replies)).flatMap(([m]) => m.results);
    },
    /** A round in one process only (the others stay idle). */
    async roundOn(child: number, i: number) {
      const c = children[child];
      if (!c) throw new Error(`no worker ${child}`);
      const reply = once(c, "message") as Promise<[{ results: CallerResult[] }]>;
      c.send({ go: i });
      return (await reply)[0].results;
    },
    async stop() {
      await Promise.all(children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = once(c, "exit");
        c.disconnect();
        await exited;
      }));
    },
  };
}
