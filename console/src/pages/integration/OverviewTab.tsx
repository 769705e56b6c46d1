/** The Overview tab: description, config keys, OAuth flow, organization counts with links to the lists behind them, test connection and SDK generation (platform admins). */
import { client, ok } from "../../api";
import { connectionsHref } from "../../lib/connections";
import { integrationHref } from "../../lib/routes";
import { GenerateSdk } from "../../panels/GenerateSdk";
import { TestConnection } from "../../panels/TestConnection";
import { FormError, useLoad } from "../../ui";
import type { IntegrationData } from "./IntegrationPage";

interface Counts {
  orgs: number;
  unmapped: number;
  /** null without an OAuth provider. */
  connected: number | null;
  needsReauth: number | null;
  error: number | null;
}

/** The counts from the integration's summary (one grouped count in the database; the same numbers as the organizations list's totals). */
async function loadCounts(name: string): Promise<Counts> {
  const s = await ok(client.GET("/api/console/integrations/{name}/summary", { params: { path: { name } } }));
  return { orgs: s.organizations, unmapped: s.unmapped, connected: s.states?.connected ?? null, needsReauth: s.states?.needs_reauth ?? null, error: s.states?.error ?? null };
}

export function OverviewTab(props: { data: IntegrationData; platform: boolean; reload: () => Promise<void> }) {
  const { integration, provider } = props.data;
  const name = integration.name;
  const { data, error } = useLoad(() => loadCounts(name), [name, provider !== null]);
  const keys = integration.config_schema.map((k) => k.key);
  return (
    <>
      <section aria-labelledby="overview-h" data-testid="integration-overview" data-ready={data !== null || error !== null ? "true" : undefined}>
        <h2 id="overview-h">Overview</h2>
        {integration.description && <p>{integration.description}</p>}
        <dl className="facts">
          <dt>Config keys</dt>
          <dd>{keys.length ? keys.join(", ") : <span className="muted">none</span>}</dd>
          <dt>OAuth</dt>
          <dd>{provider ? provider.flow : <span className="muted">no provider</span>}</dd>
          {data && (
            <>
              <dt>Mapped organizations</dt>
              <dd>
                <a href={integrationHref(name, "mappings")}>{data.orgs - data.unmapped}</a> of {data.orgs}
                {data.unmapped > 0 && <span className="muted"> ({data.unmapped} without a mapping or entity id)</span>}
              </dd>
              {data.connected !== null && (
                <>
                  <dt>Connected</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["connected"] })}>{data.connected}</a>
                  </dd>
                  <dt>Need re-auth</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["needs_reauth"] })}>{data.needsReauth ? <span className="badge warn">{data.needsReauth}</span> : 0}</a>
                  </dd>
                  <dt>Errors</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["error"] })}>{data.error ? <span className="badge bad">{data.error}</span> : 0}</a>
                  </dd>
                </>
              )}
            </>
          )}
        </dl>
        <FormError error={error} />
      </section>
      {props.platform && <TestConnection integration={integration} />}
      {props.platform && <GenerateSdk integration={integration} onGenerated={props.reload} />}
    </>
  );
}
