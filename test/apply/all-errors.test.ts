import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApplyFileError } from "../../src/core/errors.js";
import { applyText } from "../../src/services/apply.js";
import type { Bifrost } from "../../src/host/bootstrap.js";
import { bootTest } from "../helpers/backends.js";

/** `bifrost apply` reports every problem in a file, each with its line, and changes nothing. */
describe("apply reports every error in a file", () => {
  let bf: Bifrost;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const t = await bootTest();
    bf = t.bf;
    cleanup = t.cleanup;
  });
  afterAll(async () => cleanup?.());

  async function applyErrors(text: string, env: Record<string, string> = {}): Promise<ApplyFileError> {
    const err = await applyText(bf, text, "bifrost.yaml", { env }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplyFileError);
    return err as ApplyFileError;
  }

  it("structural errors in different items and fields: all of them, in line order", async () => {
    const err = await applyErrors(
      [
        "organizations:", //                                   1
        "  - { slug: acme }", //                               2
        "  - { slug: 'Not A Slug!' }", //                      3
        "integrations:", //                                    4
        "  - name: HaloPSA", //                                5
        "    description: 42", //                              6
        "    config_schema:", //                               7
        "      - { key: timeout, type: integer }", //          8
        "    mappings:", //                                    9
        "      - { org: acme, colour: blue }", //              10
        "  - name: Other", //                                  11
        "    defaults: { token: '${MISSING_TOKEN}' }", //      12
        "",
      ].join("\n"),
    );
    const errors = err.details?.errors as Array<{ path: string; line: number; message: string }>;
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ["organizations[1].slug", 3],
      ["integrations[0].description", 6],
      ["integrations[0].config_schema[0].type", 8],
      ["integrations[0].mappings[0].colour", 10],
      ["integrations[1].defaults.token", 12],
    ]);
    expect(err.message).toMatch(/^bifrost\.yaml: 5 errors:\n {2}bifrost\.yaml:3: organizations\[1\]\.slug: /);
    for (const line of [3, 6, 8, 10, 12]) expect(err.message).toContain(`bifrost.yaml:${line}: `);
    expect(err.details).toMatchObject({ file: "bifrost.yaml", path: "organizations[1].slug", line: 3 });
    // Nothing was written.
    expect(await bf.store.listOrgs()).toEqual([]);
  });

  it("every missing environment variable is named, with its line", async () => {
    const err = await applyErrors(["integrations:", "  - name: A", "    defaults: { one: '${FIRST_MISSING}' }", "  - name: B", "    defaults: { two: '${SECOND_MISSING}' }", ""].join("\n"));
    expect(err.message).toContain("bifrost.yaml:3: integrations[0].defaults.one: environment variable FIRST_MISSING is not set");
    expect(err.message).toContain("bifrost.yaml:5: integrations[1].defaults.two: environment variable SECOND_MISSING is not set");
  });

  it("YAML syntax errors: every one the parser reports", async () => {
    const err = await applyErrors(["organizations:", "  - { slug: acme", "integrations:", "  - name: [unclosed", ""].join("\n"));
    expect(err.code).toBe("BIFROST_APPLY_FILE");
    expect(err.message).toContain("cannot parse the file");
    const errors = (err.details?.errors ?? [err.details]) as Array<{ line: number | null }>;
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((e) => typeof e.line === "number")).toBe(true);
  });

  it("checks against the schema and the store: every bad value and unknown org", async () => {
    const err = await applyErrors(
      [
        "organizations:", //                                                  1
        "  - { slug: acme }", //                                              2
        "integrations:", //                                                   3
        "  - name: HaloPSA", //                                               4
        "    config_schema:", //                                              5
        "      - { key: timeout, type: int }", //                             6
        "      - { key: verbose, type: bool }", //                            7
        "    defaults: { timeout: soon, verbose: 7 }", //                     8
        "    mappings:", //                                                   9
        "      - { org: initech }", //                                        10
        "      - { org: acme, config: { colour: blue } }", //                 11
        "",
      ].join("\n"),
    );
    const errors = err.details?.errors as Array<{ path: string; line: number }>;
    expect(errors.map((e) => e.path)).toEqual(["integrations[0].defaults.timeout", "integrations[0].defaults.verbose", "integrations[0].mappings[0].org", "integrations[0].mappings[1].config.colour"]);
    expect(errors.map((e) => e.line)).toEqual([8, 8, 10, 11]);
    expect(await bf.store.listOrgs()).toEqual([]);
    expect(await bf.store.listIntegrations()).toEqual([]);
  });

  it("a single error keeps the one-line message", async () => {
    const err = await applyErrors("organizations:\n  - { slug: acme, nme: x }\n");
    expect(err.message).toMatch(/^bifrost\.yaml:2: organizations\[0\]\.nme: unknown field/);
    expect(err.details?.errors).toBeUndefined();
  });
});
