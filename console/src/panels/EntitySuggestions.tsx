/** Bulk mapping helper: paste `entity_id,entity_name` rows, get a suggested organization for each, accept or change (100 rows per page), add them as bulk lines. */
import { useState } from "react";
import type { Org } from "../api";
import { acceptedLines, AUTO_ACCEPT, type Proposal, propose } from "../lib/bulk";
import { localPage, rangeLabel } from "../lib/paging";
import { confidenceLabel } from "../match";
import { TableHead } from "../ui";

/** Paste `entity_id,entity_name` rows; each gets a suggested org (exact name/slug first, then similarity) to accept or change (any organization's slug, offered as you type). */
export function EntitySuggestions(props: { orgs: Org[]; onAdd: (lines: string[]) => void }) {
  const [text, setText] = useState("");
  const [proposals, setProposals] = useState<Proposal[] | null>(null);
  const [pageIndex, setPageIndex] = useState(0);
  const accepted = acceptedLines(proposals ?? []);
  const shown = localPage(proposals ?? [], pageIndex);
  const known = new Set(props.orgs.map((o) => o.slug));
  return (
    <details className="suggest">
      <summary>Suggest organizations for entities…</summary>
      <label htmlFor="entity-text">
        Entities, one per line: <code>entity_id,entity_name</code>
      </label>
      <textarea id="entity-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} placeholder={"customer-123,Acme Corp\ncustomer-456,Globex Inc"} />
      <div className="actions">
        <button
          type="button"
          disabled={text.trim() === ""}
          onClick={() => {
            setProposals(propose(text, props.orgs));
            setPageIndex(0);
          }}
        >
          Suggest
        </button>
      </div>
      {proposals && proposals.length > 0 && (
        <div className="table-wrap">
          {/* One list of every organization for all rows' fields (the browser shows the ones matching what is typed). */}
          <datalist id="sg-orgs">
            {props.orgs.map((o) => (
              <option key={o.slug} value={o.slug}>
                {o.name}
              </option>
            ))}
          </datalist>
          <table className="suggestions">
            <TableHead columns={["Accept", "Entity", "Organization", "Confidence"]} />
            <tbody>
              {shown.rows.map((p, j) => ({ p, i: shown.offset + j })).map(({ p, i }) => (
                <tr key={`${p.line}-${i}`} data-entity={p.entity_id ?? ""}>
                  <td data-label="Accept">
                    <input
                      type="checkbox"
                      id={`sg-acc-${i}`}
                      aria-label={`Accept suggestion for ${p.entity_name ?? p.entity_id ?? `line ${p.line}`}`}
                      checked={p.accepted}
                      disabled={!known.has(p.org)}
                      onChange={(e) => setProposals((ps) => (ps ?? []).map((x, j) => (j === i ? { ...x, accepted: e.target.checked } : x)))}
                    />
                  </td>
                  <td data-label="Entity">
                    <span className="mono">{p.entity_id ?? "—"}</span> · {p.entity_name ?? "—"}
                  </td>
                  <td data-label="Organization">
                    <label className="visually-hidden" htmlFor={`sg-org-${i}`}>
                      Organization for {p.entity_name ?? p.entity_id ?? `line ${p.line}`}
                    </label>
                    <input
                      id={`sg-org-${i}`}
                      list="sg-orgs"
                      value={p.org}
                      placeholder="— none —"
                      spellCheck={false}
                      onChange={(e) => {
                        const org = e.target.value.trim();
                        setProposals((ps) => (ps ?? []).map((x, j) => (j === i ? { ...x, org, accepted: known.has(org) } : x)));
                      }}
                    />
                  </td>
                  <td data-label="Confidence">
                    {p.org !== "" && p.org === p.suggestion.org ? (
                      <span className={`badge ${p.suggestion.kind === "exact" ? "ok" : p.suggestion.confidence >= AUTO_ACCEPT ? "info" : "warn"}`}>{confidenceLabel(p.suggestion)}</span>
                    ) : known.has(p.org) ? (
                      <span className="badge muted">chosen</span>
                    ) : p.org !== "" ? (
                      <span className="badge warn">unknown organization</span>
                    ) : (
                      <span className="muted small">no match</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {proposals.length > shown.rows.length && (
            <nav className="pager" aria-label="Suggestion pages">
              <button type="button" onClick={() => setPageIndex(shown.index - 1)} disabled={shown.index === 0}>
                Previous
              </button>
              <span className="muted small" data-testid="suggestions-range">
                {rangeLabel(shown, shown.rows.length, proposals.length)}
              </span>
              <button type="button" onClick={() => setPageIndex(shown.index + 1)} disabled={!shown.more}>
                Next
              </button>
            </nav>
          )}
        </div>
      )}
      {proposals && (
        <div className="actions">
          <button
            type="button"
            disabled={accepted.length === 0}
            onClick={() => {
              props.onAdd(accepted);
              setProposals(null);
              setText("");
            }}
          >
            Add {accepted.length} accepted row{accepted.length === 1 ? "" : "s"}
          </button>
        </div>
      )}
    </details>
  );
}
