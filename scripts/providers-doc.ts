/** Writes docs/providers.md from the provider catalog (`npm run docs:providers`). */
import { writeFileSync } from "node:fs";
import { renderProvidersDoc } from "../src/catalog/doc.js";

writeFileSync(new URL("../docs/providers.md", import.meta.url), renderProvidersDoc());
console.log("wrote docs/providers.md");
