/**
 * Golden type-check: generate the real specs (GitHub, Stripe, Twilio, Slack, Jira, Kubernetes) and the
 * construct fixtures, add a usage file per spec, and run ONE `tsc --strict` program over all of them
 * (the GitHub output dominates the time). Microsoft Graph (20 MB) is generated here but type-checked
 * only by `npm run corpus` / `npm run bench:generator` (its check takes ~10 s on its own).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSdk, type GenerateResult } from "../../src/generator/index.js";
import { tempDir } from "../helpers/backends.js";
import { directorySpec, FIXTURES, REAL_SPECS } from "./specs.js";
import { typeCheck, type CheckResult } from "./tscheck.js";

const FIXTURE_USAGE: Array<{ name: string; file: string; usage: string }> = [
  {
    name: "constructs30",
    file: `${FIXTURES}/constructs/constructs-3.0.yaml`,
    usage: `const page = await m.listTickets({ query: { status: "open", filter: { assignee: "me", created: { gte: "2026-01-01" } } }, headers: { "X-Request-Id": "r1" }, cookies: { session_hint: "s" } });
export const ids: number[] = (page.data ?? []).map((t) => t.id);
for await (const t of m.paginate.listTickets()) ids.push(t.id);
export const cat: m.Pet = { petType: "cat", name: "Tom", huntingSkill: "lazy" };
export function size(pet: m.Pet): number | undefined {
  return pet.petType === "doggo" ? pet.packSize : undefined;
}
const created = await m.createTicket({ body: { id: 1, status: "closed" } });
const form = await m.createTicket({ body: { title: "t", metadata: { source: "s", tags: ["a"] } }, contentType: "application/x-www-form-urlencoded" });
export const both: m.Status[] = [created.status, form.status];
const blob: Blob = await m.getFilesByPath({ path: { path: "a/b" } });
const text: string = await m.putFilesByPath({ path: { path: "a" }, body: new Uint8Array([1, 2]) });
await m.getTicket2({ path: { ticketId: 1 }, body: { file: blob, note: text } });
const gone: undefined = await m.delete_({ path: { ticketId: 1 } });
export const nothing = gone;
const tree: m.TreeNode = { value: "root", children: [{ value: "leaf" }] };
export const nodes = tree.children?.length;
const e: m.ErrorSchema = { code: 1, "weird key": "x" };
export const err = e;
export const n400: m.T400ErrorResponse = { message: "bad" };
export const both2: [m.SimpleUser, m.SimpleUser2] = [{ login: "a" }, { id: 1 }];
const nn: m.NullableEnum = null;
export const nn2 = nn;
export const all = Object.keys(m.constructs30).length;`,
  },
  {
    name: "constructs31",
    file: `${FIXTURES}/constructs/constructs-3.1.yaml`,
    usage: `const res = await m.getShapes({ query: { next_token: "x" } });
export const shapes = (res.shapes ?? []).map((s) => (s.kind === "Circle" ? s.r : s.side));
const maybe: m.Maybe = null;
const pair: m.Pair = ["a", 1];
export const used = [maybe, pair];
for await (const s of m.constructs31.paginate.getShapes()) shapes.push(s.kind === "Circle" ? s.r : 0);`,
  },
  {
    name: "bodiestypes",
    file: `${FIXTURES}/constructs/bodies-types-3.0.yaml`,
    usage: `import { isApiError } from "bifrost/client";
// readOnly properties are not accepted in request bodies; writeOnly ones are required there.
await m.createTask({ body: { title: "t", secret: "s", owner: { name: "n", password: "p" } } });
// @ts-expect-error id is readOnly: not part of a request body
await m.createTask({ body: { id: 1, title: "t", secret: "s" } });
// @ts-expect-error completed_by is readOnly
await m.createTask({ body: { title: "t", secret: "s", completed_by: "me" } });
// @ts-expect-error secret (writeOnly, required) is missing
await m.createTask({ body: { title: "t" } });
const task = await m.createTask({ body: { title: "t", secret: "s" } });
export const seen: [number, string | undefined] = [task.id, task.completed_by];
// @ts-expect-error secret is writeOnly: absent from responses
export const leaked = task.secret;
// @ts-expect-error nested writeOnly is absent from responses too
export const pw = task.owner?.password;
// Error bodies narrow by status.
try {
  await m.createTask({ body: { title: "t", secret: "s" } });
} catch (e) {
  if (isApiError(e, m.createTask)) {
    if (e.status === 404) {
      const missing: string = e.body.missing;
      void missing;
    } else if (e.status === 422) {
      const title: string = e.body.title;
      void title;
      // @ts-expect-error a 4XX Problem has no "missing"
      void e.body.missing;
    } else if (e.status === 503) {
      const u: unknown = e.body;
      // @ts-expect-error an undeclared status has an unknown body
      void e.body.title;
      void u;
    }
  }
  if (isApiError(e, m.listTasks) && e.status === 500) {
    const t: string = e.body.title;
    void t;
  }
  if (isApiError(e, m.listAnimals)) {
    // no declared errors: a plain ApiError
    const b: unknown = e.body;
    void b;
  }
}
// Discriminator parent: a tagged union of its allOf subtypes.
for (const a of await m.listAnimals()) {
  if (a.kind === "dog") {
    const barks: boolean | undefined = a.barks;
    void barks;
  } else {
    const lives: number | undefined = a.lives;
    void lives;
  }
}
// @ts-expect-error "bird" is not a declared subtype
export const bird: m.Animal = { kind: "bird" };
// Bodies: Blob / File / bytes / streams where the media type carries them.
await m.uploadRaw({ body: new File(["x"], "x.txt") });
await m.uploadRaw({ body: new Uint8Array([1]) });
await m.uploadParts({ body: { file: new Blob(["a"]), attachments: [new File(["b"], "b.txt"), new Uint8Array([2])], note: "n", meta: { source: "s" } } });
// @ts-expect-error file is required
await m.uploadParts({ body: { note: "n" } });
await m.submitForm({ body: { name: "n", address: { city: "c", lines: ["1", "2"] }, tags: ["a"] } });
const note: string = await m.putNote({ body: "hello" });
export const n = note;
await m.putBlob({ body: new ReadableStream<Uint8Array>() });
await m.putBlob({ body: new Blob(["z"]) });`,
  },
  {
    name: "petstore2",
    file: `${FIXTURES}/petstore-swagger2.yaml`,
    usage: `const pets = await m.findPetsByStatus({ query: { status: ["available"] } });
export const names: string[] = pets.map((p) => p.name);
const inv = await m.getInventory();
export const count: number | undefined = inv["available"];
await m.uploadFile({ path: { petId: 1 }, body: { additionalMetadata: "x" } });`,
  },
];

describe("generated modules type-check with tsc --strict (zero errors)", () => {
  const tmp = tempDir("bifrost-gen-tsc-");
  const results = new Map<string, GenerateResult>();
  let check: CheckResult;

  beforeAll(async () => {
    const files: string[] = [];
    for (const s of [...REAL_SPECS, ...FIXTURE_USAGE]) {
      const r = await generateSdk(s.file, { integration: s.name === "github" ? "GitHub" : s.name, module: s.name });
      results.set(s.name, r);
      const dir = join(tmp.dir, s.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, r.fileName), r.source);
      writeFileSync(join(dir, "usage.ts"), `import * as m from "./${r.moduleName}.js";\n${s.usage}\n`);
      files.push(join(dir, r.fileName), join(dir, "usage.ts"));
    }
    check = typeCheck(files);
  }, 240_000);
  afterAll(() => tmp.cleanup());

  it("zero errors over all generated modules and usage files", () => {
    expect(check.errors.slice(0, 20)).toEqual([]);
  });

  it("GitHub: 1,223 operations, every operation named, no renames needed", () => {
    const gh = results.get("github") as GenerateResult;
    expect(gh.operations).toHaveLength(1223);
    expect(gh.renames).toEqual([]);
    expect(gh.source).toContain("export function issuesListForRepo(args: IssuesListForRepoArgs)");
    expect(gh.source).toContain('pagination: { style: "link" }');
    expect(gh.source).toMatch(/const \$client = \/\* @__PURE__ \*\/ \$createClientWith\(\$spec, \[[$\w, ]*\]\);/);
  });

  it("Stripe (has_more + starting_after) and Twilio (next_page_uri) list operations get paginate helpers", () => {
    const stripe = results.get("stripe") as GenerateResult;
    expect(stripe.operations.find((o) => o.name === "getCustomers")?.paginated).toBe(true);
    expect(stripe.source).toContain('pagination: { style: "lastItemCursor", param: "starting_after", idPath: ["id"], hasMorePath: ["has_more"], itemsPath: ["data"] }');
    expect(stripe.source).toMatch(/ {2}getCustomers: \(args: GetCustomersArgs = \{\}\): AsyncIterable<Customer> => \$paginate\(/);
    const twilio = results.get("twilio") as GenerateResult;
    expect(twilio.operations.find((o) => o.name === "listAccount")?.paginated).toBe(true);
    expect(twilio.source).toContain('pagination: { style: "nextUrl", responsePath: ["next_page_uri"], itemsPath: ["accounts"] }');
  });

  it("Swagger 2.0 input is converted (servers from host + basePath, securityDefinitions kept)", () => {
    const p = results.get("petstore2") as GenerateResult;
    expect(p.spec.version).toBe("2.0");
    expect(p.source).toContain('servers: [{ url: "https://petstore.swagger.io/v2" }');
    expect(p.source).toContain('api_key: { type: "apiKey", in: "header", name: "api_key", configKey: "api_key" }');
  });
});

describe("Microsoft Graph generates in reasonable time", () => {
  it("11,422 operations, deterministic", async () => {
    const t0 = performance.now();
    const r = await generateSdk(directorySpec("microsoft.com/graph.json"), { integration: "Microsoft", module: "graph" });
    const ms = performance.now() - t0;
    expect(r.operations).toHaveLength(11422);
    // OData collections: `@odata.nextLink` (through allOf) → nextUrl helpers for the list operations.
    expect(r.operations.find((o) => o.method === "GET" && o.path === "/users")?.paginated).toBe(true);
    expect(r.source).toContain('pagination: { style: "nextUrl", responsePath: ["@odata.nextLink"], itemsPath: ["value"] }');
    expect(ms).toBeGreaterThan(0); // timing is reported by the bench, not asserted
  }, 120_000);
});
