/** generate_sdk: a typed client module from an OpenAPI spec (https URL or inline), returned as source; nothing is written to disk. */
import { ValidationError } from "../../../core/errors.js";
import { isUrl } from "../../../generator/load.js";
import { generateForIntegration } from "../../../generator/service.js";
import { PLATFORM_ONLY } from "../../auth.js";
import { generatedOut } from "../../routes/sdk.js";
import { GenerateSdkInput, GenerateSdkOutput } from "../schemas.js";
import { defineTool } from "../tool.js";

export const generateSdkTool = defineTool({
  name: "generate_sdk",
  title: "Generate a typed API client",
  description:
    "Generate a typed TypeScript client module for an integration from an OpenAPI 2.0/3.0/3.1 spec: spec_url (an https URL) or spec (the inline JSON/YAML document). Adds the config keys the spec needs to the integration's schema and returns the module source (nothing is written to disk). platform_admin only.",
  input: GenerateSdkInput,
  output: GenerateSdkOutput,
  // Extends the config schema (adds keys, never removes any); fetches the spec from outside.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  roles: PLATFORM_ONLY,
  action: "generate SDKs",
  run: async (ctx, args) => {
    if ((args.spec_url === undefined) === (args.spec === undefined)) throw new ValidationError("Give exactly one of spec_url (https URL) or spec (inline JSON/YAML document).", { path: "spec_url" });
    // A URL only: a file path would make the server read its own files.
    if (args.spec_url !== undefined && !isUrl(args.spec_url)) throw new ValidationError("spec_url must be an absolute https URL; pass a local document's text as spec instead.", { path: "spec_url" });
    const res = await generateForIntegration(
      ctx.bifrost,
      args.integration,
      {
        ...(args.spec_url !== undefined ? { spec: args.spec_url } : { inline: args.spec as string | object }),
        ...(args.module === undefined ? {} : { module: args.module }),
        ...(args.auth === undefined ? {} : { auth: args.auth }),
        allowHttpLoopback: ctx.allowHttpLoopback,
      },
      false,
    );
    return generatedOut(res);
  },
});
