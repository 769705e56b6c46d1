/** One organization: every integration with its mapping, overrides and connection state. */
import { client, okAs, type OrgOverview, type SessionInfo } from "../api";
import { enc } from "../lib/format";
import { FormError, StateBadge, TableHead, useLoad } from "../ui";

export function OrgDetailPage(props: { slug: string; session: SessionInfo }) {
  const { data, error } = useLoad(() => okAs<OrgOverview>(client.GET("/api/console/organizations/{slug}", { params: { path: { slug: props.slug } } })), [props.slug]);
  if (error) return <FormError error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  return (
    <section>
      <p className="crumbs">
        <a href="#/orgs">Organizations</a> /
      </p>
      <h1>
        {data.org.name} <span className="muted small">{data.org.slug}</span>
      </h1>
      <div className="table-wrap">
        <table>
          <TableHead columns={["Integration", "Entity", "Overrides", "Connection"]} />
          <tbody>
            {data.integrations.map((i) => (
              <tr key={i.integration}>
                <td data-label="Integration">
                  <a href={`#/integrations/${enc(i.integration)}`}>{i.integration}</a>
                </td>
                <td data-label="Entity">{i.mapped ? `${i.entity_id ?? "—"}${i.entity_name ? ` · ${i.entity_name}` : ""}` : <span className="muted">not mapped</span>}</td>
                <td data-label="Overrides">{i.override_count}</td>
                <td data-label="Connection">
                  {i.oauth_flow ? (
                    <StateBadge connection={i.connection} />
                  ) : (
                    <span className="muted">no OAuth</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
