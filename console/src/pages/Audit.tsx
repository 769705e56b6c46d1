/** The audit trail: who changed or read what (names only, never values), filtered, newest first, one page of 50 at a time. */
import { useState } from "react";
import { type AuditEntry, client, ok } from "../api";
import { actionTone, actorLabel, AUDIT_ACTIONS, AUDIT_PAGE, auditQuery } from "../lib/audit";
import { when } from "../lib/format";
import { Pager, usePaged } from "../paged";
import { FormError, TableHead, TextField } from "../ui";

type Filter = { integration: string; org: string; action: string; since: string };

export function AuditPage(props: { query: URLSearchParams; platform: boolean }) {
  const init = (k: keyof Filter) => props.query.get(k) ?? "";
  const [form, setForm] = useState<Filter>({ integration: init("integration"), org: init("org"), action: init("action"), since: init("since") });
  const [applied, setApplied] = useState<Filter>(form);
  const paged = usePaged<AuditEntry>(JSON.stringify(applied), async (cursor) => {
    const page = await ok(client.GET("/api/audit", { params: { query: auditQuery(applied, cursor) } }));
    return { rows: page.entries, next_cursor: page.next_cursor, total: null };
  });
  const entries = paged.page?.rows ?? null;

  const set = (k: keyof Filter) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  return (
    <section>
      <h1>Audit</h1>
      <p className="muted">Who changed or read which config, secret, mapping, provider, connection or key. Names only, never values.{props.platform ? "" : " You see your organization's entries."}</p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <TextField id="au-int" label="Integration" value={form.integration} onChange={set("integration")} />
        {props.platform && <TextField id="au-org" label="Organization" value={form.org} onChange={set("org")} />}
        <div className="field">
          <label htmlFor="au-action">Action</label>
          <select id="au-action" value={form.action} onChange={(e) => set("action")(e.target.value)}>
            <option value="">any</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </div>
        <TextField id="au-since" label="Since (ISO time or 7d, 24h)" value={form.since} onChange={set("since")} />
        <button type="submit" className="primary">
          Filter
        </button>
      </form>
      <FormError error={paged.error} />
      <div className="table-wrap">
        <table aria-label="Audit entries">
          <TableHead columns={["When", "Action", "Actor", "Integration", "Organization", "Keys", "Request"]} />
          <tbody>
            {(entries ?? []).map((e) => (
              <tr key={e.id}>
                <td data-label="When">{when(e.at)}</td>
                <td data-label="Action">
                  <span className={`badge ${actionTone(e.action)}`}>{e.action}</span>
                </td>
                <td data-label="Actor">{actorLabel(e.actor)}</td>
                <td data-label="Integration">{e.target.integration ?? "—"}</td>
                <td data-label="Organization">{e.target.org ?? "—"}</td>
                <td data-label="Keys" className="mono small">
                  {e.target.keys.join(", ")}
                </td>
                <td data-label="Request" className="mono small">
                  {e.execution_id ? `execution ${e.execution_id}` : (e.request_id ?? "")}
                </td>
              </tr>
            ))}
            {entries && entries.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No audit entries match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager paged={paged} label="Audit" pageSize={AUDIT_PAGE} />
    </section>
  );
}
