// oidc-provider 9 ships no type declarations; the tests use a small part of its API.
declare module "oidc-provider" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped third-party module
  const Provider: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped third-party module
  type Provider = any;
  export default Provider;
}
