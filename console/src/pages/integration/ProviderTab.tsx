/** The OAuth provider tab: flow, client, URLs, scopes, the callback URL to register. */
import { OAuthSettings } from "../../panels/OAuthSettings";
import type { IntegrationData } from "./IntegrationPage";

export function ProviderTab(props: { data: IntegrationData; platform: boolean; reload: () => Promise<void>; publicUrl: string }) {
  const { integration, provider } = props.data;
  return <OAuthSettings key={JSON.stringify(provider)} integration={integration} provider={provider} canEdit={props.platform} publicUrl={props.publicUrl} onSaved={props.reload} />;
}
