/** The bifrost.yaml example (api_key from ${HALO_API_KEY}), shared by the apply and CLI suites. */
export const EXAMPLE = `organizations:
  - { slug: acme, name: Acme Corp }
integrations:
  - name: HaloPSA
    description: optional
    config_schema:
      - { key: base_url, type: string, required: true }
      - { key: api_key,  type: secret, required: true }
      - { key: timeout,  type: int }
    defaults: { base_url: https://halo.example.com/api, timeout: 30, api_key: "\${HALO_API_KEY}" }
    mappings:
      - { org: acme, entity_id: customer-123, entity_name: Acme (Halo), config: { base_url: https://acme.halo.example.com/api } }
`;
