/** MCP test helpers: the SDK's own client, every tool result recorded (for the masking checks), error envelopes parsed. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

interface Envelope {
  statusCode: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface Mcp {
  client: Client;
  /** Call a tool; the raw result (JSON) is appended to `seen`. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Call a tool that must succeed; returns its structured content. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Call a tool that must fail; returns the error text (and the envelope when the text is one). */
  fail(name: string, args?: Record<string, unknown>): Promise<{ text: string; envelope: Envelope | null }>;
  close(): Promise<void>;
}

/** Every tool result text any test client received. */
export const seen: string[] = [];

export async function connectClient(transport: Transport): Promise<Mcp> {
  const client = new Client({ name: "bifrost-test", version: "1.0.0" });
  await client.connect(transport);
  // listTools caches the output schemas, so every callTool below is also validated client-side.
  await client.listTools();
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const res = (await client.callTool({ name, arguments: args })) as CallToolResult;
    seen.push(JSON.stringify(res));
    return res;
  };
  return {
    client,
    call,
    async ok(name, args) {
      const res = await call(name, args);
      if (res.isError) throw new Error(`${name} failed: ${JSON.stringify(res.content)}`);
      return res.structuredContent as never;
    },
    async fail(name, args) {
      const res = await call(name, args);
      if (!res.isError) throw new Error(`${name} succeeded but should have failed: ${JSON.stringify(res.structuredContent)}`);
      const first = res.content[0];
      const text = first && first.type === "text" ? first.text : "";
      let envelope: Envelope | null = null;
      try {
        const parsed = JSON.parse(text) as Envelope;
        if (typeof parsed.code === "string") envelope = parsed;
      } catch {
        envelope = null;
      }
      return { text, envelope };
    },
    close: () => client.close(),
  };
}

/** A tiny OpenAPI 3.0 document for generate_sdk. */
export const PETS_SPEC = {
  openapi: "3.0.3",
  info: { title: "Pets", version: "1.0.0" },
  servers: [{ url: "https://pets.example.com/v1" }],
  paths: {
    "/pets": {
      get: {
        operationId: "listPets",
        responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "array", items: { type: "string" } } } } } },
      },
    },
  },
};
