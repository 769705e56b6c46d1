/**
 * Turn `:name` placeholders into a dialect's positional form.
 * SQLite: `?` per occurrence; PostgreSQL: `$n` per distinct name.
 */
export function compileNamed(
  text: string,
  params: Record<string, unknown>,
  style: "sqlite" | "postgres",
): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const positions = new Map<string, number>();
  const out = text.replace(/:([a-z_]+)/g, (_m, name: string) => {
    if (!(name in params)) throw new Error(`SQL parameter :${name} has no value`);
    if (style === "sqlite") {
      parameters.push(params[name]);
      return "?";
    }
    let pos = positions.get(name);
    if (pos === undefined) {
      parameters.push(params[name]);
      pos = parameters.length;
      positions.set(name, pos);
    }
    return `$${pos}`;
  });
  return { sql: out, parameters };
}
