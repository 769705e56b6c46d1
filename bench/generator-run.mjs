// Child process of bench/generator.ts: generate one spec into OUT/api.ts with the built generator (dist/, `npm run build`).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSdk } from "../dist/generator/index.js";

const [spec, out] = process.argv.slice(2);
const r = await generateSdk(spec, { integration: "Bench", module: "api" });
writeFileSync(join(out, "api.ts"), r.source);
