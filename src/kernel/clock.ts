import { randomUUID } from "node:crypto";

/** Time and ids come from here so tests and services agree on one source. */
export interface Clock {
  now(): string;
  id(): string;
}

export const systemClock: Clock = {
  now: () => new Date().toISOString(),
  id: () => randomUUID(),
};
