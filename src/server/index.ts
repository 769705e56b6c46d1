/** Server entry point (`bifrost/server`): filled in by the HTTP API module. */
export {};
