/** One integration: its header, the tab bar and the tab shown (overview, schema & defaults, provider, mappings). */
import { ApiError, client, type Integration, type OAuthProvider, okAs, type SessionInfo } from "../../api";
import { INTEGRATION_TABS, type IntegrationTab, integrationHref } from "../../lib/routes";
import { FormError, useLoad } from "../../ui";
import { MappingsTab } from "./MappingsTab";
import { OverviewTab } from "./OverviewTab";
import { ProviderTab } from "./ProviderTab";
import { SchemaTab } from "./SchemaTab";

export interface IntegrationData {
  integration: Integration;
  provider: OAuthProvider | null;
}

const TAB_LABELS: Record<IntegrationTab, string> = { overview: "Overview", schema: "Schema & defaults", provider: "OAuth provider", mappings: "Mappings" };

async function loadIntegration(name: string): Promise<IntegrationData> {
  const path = { name };
  const integration = await okAs<Integration>(client.GET("/api/integrations/{name}", { params: { path } }));
  let provider: OAuthProvider | null = null;
  try {
    provider = (await okAs<{ oauth: OAuthProvider }>(client.GET("/api/integrations/{name}/oauth", { params: { path } }))).oauth;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "BIFROST_OAUTH_NO_PROVIDER")) throw e;
  }
  return { integration, provider };
}

export function IntegrationPage(props: { name: string; tab: IntegrationTab; session: SessionInfo }) {
  const { data, error, reload } = useLoad(() => loadIntegration(props.name), [props.name]);
  if (error) return <FormError error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  const platform = props.session.role === "platform_admin";
  const tabProps = { data, platform, reload };
  return (
    <article>
      <p className="crumbs">
        <a href="#/integrations">Integrations</a> /
      </p>
      <div className="page-head">
        <h1>{data.integration.name}</h1>
      </div>
      <nav className="tabs" aria-label="Integration sections">
        {INTEGRATION_TABS.map((t) => (
          <a key={t} href={integrationHref(data.integration.name, t)} aria-current={t === props.tab ? "page" : undefined}>
            {TAB_LABELS[t]}
          </a>
        ))}
      </nav>
      {props.tab === "overview" && <OverviewTab {...tabProps} />}
      {props.tab === "schema" && <SchemaTab {...tabProps} />}
      {props.tab === "provider" && <ProviderTab {...tabProps} publicUrl={props.session.public_url ?? window.location.origin} />}
      {props.tab === "mappings" && <MappingsTab {...tabProps} />}
    </article>
  );
}
