/** JSON / YAML text → object, with errors naming line and column. */
import { parseDocument } from "yaml";
import { SpecParseError } from "./errors.js";

function lineColAt(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  const end = Math.min(pos, text.length);
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    last = i;
  }
  return { line, column: end - last };
}

/** Parse a spec document. `source` names it in errors (file path or URL). */
export function parseSpecText(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = /\S/.exec(body);
  if (!first) throw new SpecParseError(`${source} is empty.`, { source });
  if (first[0] === "{" || first[0] === "[") {
    try {
      return JSON.parse(body) as unknown;
    } catch (err) {
      const msg = (err as Error).message;
      const m = /position (\d+)/.exec(msg);
      const pos = m ? Number(m[1]) : body.length;
      const { line, column } = lineColAt(body, pos);
      const reason = msg.replace(/\s*in JSON at position \d+.*$/s, "").replace(/^JSON\.parse: /, "");
      throw new SpecParseError(`${source} is not valid JSON at line ${line}, column ${column}: ${reason}.`, { source, line, column });
    }
  }
  const doc = parseDocument(body, { prettyErrors: true, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const line = pos?.line ?? 0;
    const column = pos?.col ?? 0;
    const reason = err.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "syntax error";
    throw new SpecParseError(`${source} is not valid YAML at line ${line}, column ${column}: ${reason}`, { source, line, column });
  }
  return doc.toJS({ maxAliasCount: 10_000 }) as unknown;
}
