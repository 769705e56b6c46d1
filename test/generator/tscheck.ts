/**
 * Type-check generated modules with the TypeScript 5.9 compiler API (tests and scripts only; the
 * generator itself never uses it). `bifrost/client` is mapped to src/client/index.ts. Only
 * diagnostics in the checked files (generated modules + usage files) are returned, so a runtime
 * work-in-progress cannot hide or fake a generator error.
 */
import { resolve } from "node:path";
import ts from "typescript";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface CheckResult {
  errors: Array<{ file: string; line: number; code: number; message: string }>;
  otherErrors: number;
  ms: number;
}

export function typeCheck(files: string[]): CheckResult {
  const t0 = performance.now();
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [resolve(ROOT, "node_modules/@types")],
    allowImportingTsExtensions: true,
    baseUrl: ROOT,
    paths: { "bifrost/client": [resolve(ROOT, "src/client/index.ts")] },
  };
  const program = ts.createProgram(files, options);
  const wanted = new Set(files.map((f) => resolve(f)));
  const errors: CheckResult["errors"] = [];
  let otherErrors = 0;
  for (const d of [...program.getOptionsDiagnostics(), ...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    const file = d.file ? resolve(d.file.fileName) : "";
    if (!d.file || !wanted.has(file)) {
      otherErrors++;
      continue;
    }
    const pos = d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0 };
    errors.push({ file, line: pos.line + 1, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, "\n").slice(0, 300) });
  }
  return { errors, otherErrors, ms: Math.round(performance.now() - t0) };
}
