/** The Overview tab: description, config keys, OAuth flow, organization counts with links to the lists behind them, test connection and SDK generation (platform admins). */
import { client, type IntegrationOverview, okAs, PENDING_PAGING } from "../../api";
import { connectionsHref } from "../../lib/connections";
import { integrationHref } from "../../lib/routes";
import { GenerateSdk } from "../../panels/GenerateSdk";
import { TestConnection } from "../../panels/TestConnection";
import { FormError, useLoad } from "../../ui";
import type { IntegrationData } from "./IntegrationPage";

async function loadOverview(name: string): Promise<IntegrationOverview | null> {
  const res = await okAs<{ integrations: IntegrationOverview[] }>(client.GET("/api/console/integrations", PENDING_PAGING({ q: name, limit: "100" })));
  return res.integrations.find((i) => i.name === name) ?? null;
}

export function OverviewTab(props: { data: IntegrationData; platform: boolean; reload: () => Promise<void> }) {
  const { integration, provider } = props.data;
  const name = integration.name;
  const { data, error } = useLoad(() => loadOverview(name), [name]);
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
                <a href={integrationHref(name, "mappings")}>{data.mapped_orgs}</a>
              </dd>
              {provider && (
                <>
                  <dt>Connected</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["connected"] })}>{data.connected_orgs}</a>
                  </dd>
                  <dt>Need re-auth</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["needs_reauth"] })}>{data.needs_reauth_orgs > 0 ? <span className="badge warn">{data.needs_reauth_orgs}</span> : 0}</a>
                  </dd>
                  <dt>Errors</dt>
                  <dd>
                    <a href={connectionsHref({ integration: name, states: ["error"] })}>{data.error_orgs > 0 ? <span className="badge bad">{data.error_orgs}</span> : 0}</a>
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
