/** The Schema & defaults tab: the config schema editor and the defaults form rendered from it. */
import { client, ok } from "../../api";
import { ConfigForm } from "../../panels/ConfigForm";
import { SchemaEditor } from "../../panels/SchemaEditor";
import type { IntegrationData } from "./IntegrationPage";

export function SchemaTab(props: { data: IntegrationData; platform: boolean; reload: () => Promise<void> }) {
  const { integration } = props.data;
  return (
    <>
      <SchemaEditor integration={integration} canEdit={props.platform} onSaved={props.reload} />
      <section aria-labelledby="defaults-h">
        <h2 id="defaults-h">Defaults</h2>
        <ConfigForm
          key={JSON.stringify(integration.defaults)}
          idPrefix="default"
          schema={integration.config_schema}
          values={integration.defaults}
          canEdit={props.platform}
          saveLabel="Save defaults"
          onSave={async (patch) => {
            await ok(client.PATCH("/api/integrations/{name}/defaults", { params: { path: { name: integration.name } }, body: patch }));
            await props.reload();
          }}
        />
      </section>
    </>
  );
}
