/**
 * The command line defines only the command its first argument names (src/cli/program.ts): every
 * top-level command of the full program must be found that way, with the same subcommands and options.
 */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";

/** A command's shape: its name, options and subcommands, recursively. */
function shape(cmd: Command): unknown {
  return { name: cmd.name(), options: cmd.options.map((o) => o.flags), commands: cmd.commands.map(shape) };
}

describe("CLI program", () => {
  it("defines each top-level command alone exactly as in the full program", async () => {
    const full = await buildProgram();
    const names = full.commands.map((c) => c.name());
    expect(names).toContain("config");
    expect(names).toContain("run");
    for (const name of names) {
      const alone = await buildProgram(name);
      const cmd = alone.commands.find((c) => c.name() === name);
      expect(cmd, name).toBeDefined();
      expect(shape(cmd!)).toEqual(shape(full.commands.find((c) => c.name() === name)!));
      // Nothing beyond that command's own module is defined.
      expect(alone.commands.length, name).toBeLessThanOrEqual(2);
    }
  });

  it("defines the full program for anything else", async () => {
    const full = await buildProgram();
    for (const first of [undefined, "--help", "help", "-V", "confg", "--json"]) {
      expect((await buildProgram(first)).commands.map((c) => c.name())).toEqual(full.commands.map((c) => c.name()));
    }
  });
});
