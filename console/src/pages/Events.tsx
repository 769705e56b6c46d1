/** OAuth events, filtered by integration, organization and type, oldest first (as the API answers), 100 per page. */
import { useState } from "react";
import { client, type EventRow, okAs } from "../api";
import { detailText, eventTone, when } from "../lib/format";
import { pageQuery } from "../lib/paging";
import { Pager, usePaged } from "../paged";
import { FormError, TableHead, TextField } from "../ui";

const EVENT_TYPES = ["connected", "refreshed_after_failure", "refresh_failed", "needs_reauth", "disconnected"];

export function EventsPage(props: { query: URLSearchParams }) {
  const [integration, setIntegration] = useState(props.query.get("integration") ?? "");
  const [org, setOrg] = useState(props.query.get("org") ?? "");
  const [type, setType] = useState(props.query.get("type") ?? "");
  const [applied, setApplied] = useState({ integration, org, type });
  const paged = usePaged<EventRow>(JSON.stringify(applied), async (cursor) => {
    const query = pageQuery(cursor, applied);
    const res = await okAs<{ events: EventRow[]; next_cursor?: string | null }>(client.GET("/api/events", { params: { query } }));
    return { rows: res.events, next_cursor: res.next_cursor ?? null, total: null };
  });
  const data = paged.page;
  const events = paged.page?.rows ?? [];
  return (
    <section>
      <h1>Events</h1>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ integration, org, type });
        }}
      >
        <TextField id="ev-int" label="Integration" value={integration} onChange={setIntegration} />
        <TextField id="ev-org" label="Organization" value={org} onChange={setOrg} />
        <div className="field">
          <label htmlFor="ev-type">Type</label>
          <select id="ev-type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">any</option>
            {EVENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary">
          Filter
        </button>
      </form>
      <FormError error={paged.error} />
      <div className="table-wrap">
        <table>
          <TableHead columns={["When", "Type", "Integration", "Organization", "Details"]} />
          <tbody>
            {events.map((ev) => (
              <tr key={ev.id}>
                <td data-label="When">{when(ev.created_at)}</td>
                <td data-label="Type">
                  <span className={`badge ${eventTone(ev.type)}`}>{ev.type}</span>
                </td>
                <td data-label="Integration">{ev.integration ?? "—"}</td>
                <td data-label="Organization">{ev.org ?? "—"}</td>
                <td data-label="Details" className="mono small">
                  {detailText(ev.payload)}
                </td>
              </tr>
            ))}
            {data && events.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No events.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager paged={paged} label="Events" />
    </section>
  );
}
