/**
 * `bifrost oauth link` / `oauth links list|revoke` and the link events in `bifrost events` (in process,
 * SQLite under a temporary BIFROST_HOME). The link's token appears only in the create output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/backends.js";
import { type CliResult, runCliInProcess } from "../helpers/cli.js";

describe("bifrost oauth link (CLI)", () => {
  const tmp = tempDir("bifrost-links-cli-");
  const env = { BIFROST_HOME: join(tmp.dir, ".bifrost-home"), BIFROST_PUBLIC_URL: "https://bifrost.example.com" };
  const run = (args: string[]) => runCliInProcess(args, { env, cwd: tmp.dir });
  const json = (r: CliResult) => {
    expect(r.status, r.stderr + r.stdout).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(() => {
    writeFileSync(
      join(tmp.dir, "bifrost.yaml"),
      "organizations:\n  - { slug: acme, name: Acme Corp }\nintegrations:\n  - name: Halo\n    oauth:\n      flow: authorization_code\n      client_id: halo-client\n      client_secret: halo-secret-PLAINTEXT\n      authorization_url: https://auth.example.com/authorize\n      token_url: https://auth.example.com/token\n",
    );
  });
  afterAll(() => tmp.cleanup());

  it("creates a link under BIFROST_PUBLIC_URL, lists and revokes it; events name the link id, never the token", async () => {
    json(await run(["apply", "bifrost.yaml", "--json"]));
    const created = json(await run(["oauth", "link", "Halo", "--org", "acme", "--json"]));
    expect(created.url).toMatch(/^https:\/\/bifrost\.example\.com\/connect\/[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(created.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    const token = (created.url as string).split("/").pop() as string;

    const human = await run(["oauth", "link", "Halo", "--org", "acme", "--expires", "12h"]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/https:\/\/bifrost\.example\.com\/connect\/[A-Za-z0-9_-]{43}/);

    const bad = await run(["oauth", "link", "Halo", "--org", "acme", "--expires", "2w", "--json"]);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: "BIFROST_CONNECT_LINK_EXPIRES_INVALID" });
    const noOrg = await run(["oauth", "link", "Halo"]);
    expect(noOrg.status).not.toBe(0);
    expect(noOrg.stderr).toContain("--org");

    const listed = await run(["oauth", "links", "list", "Halo", "--json"]);
    const links = json(listed).links as Array<{ id: string; status: string; created_by: string }>;
    expect(links).toHaveLength(2);
    expect(links.every((l) => l.status === "active" && l.created_by === "cli")).toBe(true);
    expect(listed.stdout).not.toContain(token);

    const revoked = json(await run(["oauth", "links", "revoke", created.id, "--json"]));
    expect(revoked.link).toMatchObject({ id: created.id, status: "revoked" });
    const twice = await run(["oauth", "links", "revoke", created.id, "--json"]);
    expect(JSON.parse(twice.stdout)).toMatchObject({ code: "BIFROST_CONNECT_LINK_GONE" });
    const unknown = await run(["oauth", "links", "revoke", "no-such-link", "--json"]);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ code: "BIFROST_CONNECT_LINK_NOT_FOUND" });

    const events = await run(["events", "--json"]);
    const all = json(events).events as Array<{ type: string; payload: { link_id?: string } }>;
    expect(all.filter((e) => e.type === "link.created")).toHaveLength(2);
    expect(all.find((e) => e.type === "link.revoked")?.payload.link_id).toBe(created.id);
    expect(events.stdout).not.toContain(token);
  });
});
