import { z } from "zod";
import { ValidationError } from "../../core/errors.js";
import { generateForIntegration } from "../../generator/service.js";
import { PLATFORM_ONLY } from "../auth.js";
import type { Api } from "../route.js";

export const GenerateSdkBody = z
  .object({
    spec_url: z.string().min(1).max(4096).optional(),
    spec: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    module: z.string().min(1).max(100).optional(),
    auth: z
      .string()
      .min(1)
      .max(300)
      .optional()
      .describe("How calls authenticate: spec (default: the spec's security schemes), oauth, bearer, basic, api-key:header:NAME, api-key:query:NAME, none"),
  })
  .strict();

/** The answer of a generation (HTTP route and MCP tool): the module, its source and the config keys it added. */
export function generatedOut(res: Awaited<ReturnType<typeof generateForIntegration>>) {
  const r = res.result;
  return {
    module: r.moduleName,
    auth: r.auth,
    file_name: r.fileName,
    export: r.exportName,
    source: r.source,
    operations: r.operations.length,
    schemas: r.schemaCount,
    renamed: r.renames,
    config_keys_added: res.configAdded,
    config_keys_existing: res.configKept,
    warnings: r.warnings,
  };
}

export function sdkRoutes(api: Api): void {
  const bf = api.bifrost;
  api.route({
    method: "POST",
    url: "/api/integrations/:name/sdk/generate",
    summary: "Generate a typed TypeScript client module from an OpenAPI spec (https URL or inline); adds the config keys the spec needs and returns the source.",
    tag: "integrations",
    roles: PLATFORM_ONLY,
    action: "generate SDKs",
    body: GenerateSdkBody,
    handler: async ({ params, body }) => {
      if ((body.spec_url === undefined) === (body.spec === undefined)) throw new ValidationError("Give exactly one of spec_url (https URL) or spec (inline JSON/YAML document).");
      // The server never reads its own files for a caller: spec_url must be an absolute http(s) URL.
      if (body.spec_url !== undefined && !/^https?:\/\//i.test(body.spec_url)) {
        throw new ValidationError("spec_url must be an absolute https URL; to generate from a file, send its content as spec (or use `bifrost sdk generate --spec FILE` locally).", { path: "spec_url" });
      }
      const allowHttpLoopback = api.oauthDeps.oauth?.allowHttpLoopback ?? process.env.BIFROST_ALLOW_HTTP_LOOPBACK === "1";
      const res = await generateForIntegration(
        bf,
        params.name as string,
        {
          ...(body.spec_url !== undefined ? { spec: body.spec_url } : { inline: body.spec as string | object }),
          ...(body.module === undefined ? {} : { module: body.module }),
          ...(body.auth === undefined ? {} : { auth: body.auth }),
          allowHttpLoopback,
        },
        false,
      );
      return generatedOut(res);
    },
  });
}
