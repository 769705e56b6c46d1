/**
 * The layer rule of src/ (docs/architecture.md, "Layers"): a module may import only its own folder and
 * folders in lower layers. Siblings in one layer do not import each other. Type-only and dynamic
 * imports count like any other import. Checked by `npm run lint:deps` (part of `npm test`).
 */

/** Lowest first. A name ending in `.ts` is a file directly under src/, any other name a folder. */
const LAYERS = [
  ["core"],
  ["crypto", "net", "cache", "catalog"],
  ["storage", "logger.ts"],
  ["kernel"],
  ["oauth"],
  ["services", "runtime"],
  ["client"],
  ["host", "generator"],
  ["server"],
  ["cli", "index.ts"],
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const pathOf = (name) => (name.endsWith(".ts") ? `^src/${escape(name)}$` : `^src/${escape(name)}/`);

const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.map((name) => {
    const lower = LAYERS.slice(0, rank).flat();
    return {
      name: `layer-${name.replace(/\.ts$/, "")}`,
      severity: "error",
      comment:
        `src/${name} may import only ${lower.length ? lower.map((n) => `src/${n}`).join(", ") : "itself"}` +
        " (and itself): anything else is a sibling or a higher layer. Move the shared part down (src/kernel/ or src/core/) instead.",
      from: { path: pathOf(name) },
      to: { path: "^src/", pathNot: [pathOf(name), ...lower.map(pathOf)] },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "no-folder-cycle",
      severity: "error",
      comment: "The top-level folders under src/ form no cycle (a second net under the layer rules, which already forbid every upward import).",
      scope: "folder",
      from: { path: "^src/[^/]+$" },
      to: { circular: true },
    },
    {
      name: "no-module-cycle",
      severity: "error",
      comment: "No module imports itself through others, inside a folder either.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-unknown-layer",
      severity: "error",
      comment: "Every folder and top-level file under src/ has a place in LAYERS of .dependency-cruiser.cjs (and in docs/architecture.md).",
      from: { path: "^src/", pathNot: LAYERS.flat().map(pathOf) },
      to: {},
    },
  ],
  options: {
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
