/** One integration: schema editor, defaults, OAuth provider, mappings per organization (overrides, bulk mapping), test connection. */
import { useState } from "react";
import { allPages, ApiError, client, type Connection, type Integration, type Mapping, type OAuthProvider, ok, okAs, type Org, type SessionInfo } from "../api";
import { BulkDialog } from "../panels/BulkDialog";
import { ConfigForm } from "../panels/ConfigForm";
import { MappingRow } from "../panels/MappingRow";
import { OAuthSettings } from "../panels/OAuthSettings";
import { SchemaEditor } from "../panels/SchemaEditor";
import { GenerateSdk } from "../panels/GenerateSdk";
import { TestConnection } from "../panels/TestConnection";
import { ConfirmDialog, Dialog, FormError, TableHead, useLoad } from "../ui";

interface DetailData {
  integration: Integration;
  provider: OAuthProvider | null;
  mappings: Mapping[];
  orgs: Org[];
  connections: Connection[];
}

async function loadDetail(name: string): Promise<DetailData> {
  const path = { name };
  const [integration, mappings, orgs] = await Promise.all([
    okAs<Integration>(client.GET("/api/integrations/{name}", { params: { path } })),
    allPages<Mapping>("mappings", (query) => client.GET("/api/integrations/{name}/mappings", { params: { path, query } })),
    allPages<Org>("organizations", (query) => client.GET("/api/organizations", { params: { query } })),
  ]);
  let provider: OAuthProvider | null = null;
  let connections: Connection[] = [];
  try {
    provider = (await okAs<{ oauth: OAuthProvider }>(client.GET("/api/integrations/{name}/oauth", { params: { path } }))).oauth;
    connections = await allPages<Connection>("connections", (query) => client.GET("/api/integrations/{name}/oauth/status", { params: { path, query } }));
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "BIFROST_OAUTH_NO_PROVIDER")) throw e;
  }
  return { integration, provider, mappings, orgs, connections };
}

export function IntegrationDetailPage(props: { name: string; session: SessionInfo }) {
  const platform = props.session.role === "platform_admin";
  const { data, error, reload } = useLoad(() => loadDetail(props.name), [props.name]);
  const [overridesFor, setOverridesFor] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Mapping | null>(null);
  const [bulk, setBulk] = useState(false);
  if (error) return <FormError error={error} />;
  if (!data) return <p className="loading">Loading…</p>;
  const { integration, provider, mappings, orgs, connections } = data;
  const name = integration.name;
  const overrideMapping = mappings.find((m) => m.org === overridesFor);
  const publicUrl = props.session.public_url ?? window.location.origin;
  return (
    <article>
      <p className="crumbs">
        <a href="#/integrations">Integrations</a> /
      </p>
      <div className="page-head">
        <h1>{integration.name}</h1>
      </div>
      {integration.description && <p>{integration.description}</p>}
      <SchemaEditor integration={integration} canEdit={platform} onSaved={reload} />
      <section aria-labelledby="defaults-h">
        <h2 id="defaults-h">Defaults</h2>
        <ConfigForm
          key={JSON.stringify(integration.defaults)}
          idPrefix="default"
          schema={integration.config_schema}
          values={integration.defaults}
          canEdit={platform}
          saveLabel="Save defaults"
          onSave={async (patch) => {
            await ok(client.PATCH("/api/integrations/{name}/defaults", { params: { path: { name } }, body: patch }));
            await reload();
          }}
        />
      </section>
      <OAuthSettings key={JSON.stringify(provider)} integration={integration} provider={provider} canEdit={platform} publicUrl={publicUrl} onSaved={reload} />
      <section aria-labelledby="mappings-h">
        <div className="page-head">
          <h2 id="mappings-h">Mappings</h2>
          <button type="button" onClick={() => setBulk(true)}>
            Bulk map…
          </button>
        </div>
        <div className="table-wrap">
          <table className="mappings">
            <TableHead columns={["Organization", "Entity id / name", "Overrides", "Connection", "Actions"]} />
            <tbody>
              {orgs.map((o) => (
                <MappingRow
                  key={o.slug}
                  integration={integration}
                  org={o}
                  mapping={mappings.find((m) => m.org === o.slug)}
                  connection={connections.find((c) => c.org === o.slug)}
                  provider={provider}
                  onChanged={reload}
                  onOverrides={() => setOverridesFor(o.slug)}
                  onRemove={() => setRemoving(mappings.find((m) => m.org === o.slug) ?? null)}
                />
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {platform && <TestConnection integration={integration} orgs={orgs} />}
      {platform && <GenerateSdk integration={integration} onGenerated={reload} />}
      {overridesFor && (
        <Dialog title={`Overrides: ${integration.name} for ${overridesFor}`} onClose={() => setOverridesFor(null)} wide>
          <ConfigForm
            idPrefix={`ov-${overridesFor}`}
            schema={integration.config_schema}
            values={overrideMapping?.config ?? {}}
            defaults={integration.defaults}
            canEdit
            saveLabel="Save overrides"
            onCancel={() => setOverridesFor(null)}
            onSave={async (patch) => {
              await ok(client.PATCH("/api/integrations/{name}/mappings/{org}/config", { params: { path: { name, org: overridesFor } }, body: patch }));
              await reload();
              setOverridesFor(null);
            }}
          />
        </Dialog>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove the mapping for ${removing.org}?`}
          confirmLabel="Remove mapping"
          danger
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await ok(client.DELETE("/api/integrations/{name}/mappings/{org}", { params: { path: { name, org: removing.org } } }));
            await reload();
          }}
        >
          <p>
            This removes the mapping of <strong>{removing.org}</strong> (entity {removing.entity_id ?? "none"}) and its {Object.keys(removing.config).length} override
            {Object.keys(removing.config).length === 1 ? "" : "s"}.
          </p>
        </ConfirmDialog>
      )}
      {bulk && <BulkDialog integration={integration} orgs={orgs} onClose={() => setBulk(false)} onDone={reload} />}
    </article>
  );
}
