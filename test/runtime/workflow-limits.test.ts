import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { workflowLimits } from "../../src/host/workflow-limits.js";
import { workflow } from "../../src/runtime/workflow.js";

describe("workflow limits", () => {
  it("defaults: 300000 ms, 512 MB, 2 × cores (at least 4) with a queue of 4 × that", () => {
    const c = Math.max(4, 2 * availableParallelism());
    expect(workflowLimits({})).toEqual({ timeoutMs: 300_000, memoryMb: 512, concurrency: c, queue: 4 * c });
  });

  it("reads BIFROST_WORKFLOW_TIMEOUT_MS, BIFROST_WORKFLOW_MEMORY_MB, BIFROST_WORKFLOW_CONCURRENCY and BIFROST_WORKFLOW_QUEUE", () => {
    expect(workflowLimits({ BIFROST_WORKFLOW_TIMEOUT_MS: "1500", BIFROST_WORKFLOW_MEMORY_MB: "128", BIFROST_WORKFLOW_CONCURRENCY: "3" })).toEqual({ timeoutMs: 1500, memoryMb: 128, concurrency: 3, queue: 12 });
    expect(workflowLimits({ BIFROST_WORKFLOW_CONCURRENCY: "3", BIFROST_WORKFLOW_QUEUE: "64" })).toMatchObject({ concurrency: 3, queue: 64 });
  });

  it("a malformed variable is refused naming it and the default", () => {
    for (const [name, value] of [["BIFROST_WORKFLOW_TIMEOUT_MS", "5s"], ["BIFROST_WORKFLOW_MEMORY_MB", "0"], ["BIFROST_WORKFLOW_CONCURRENCY", "-2"], ["BIFROST_WORKFLOW_QUEUE", "lots"]] as const) {
      expect(() => workflowLimits({ [name]: value })).toThrow(expect.objectContaining({ code: "BIFROST_VALIDATION", message: expect.stringContaining(`${name}="${value}"`) }));
    }
  });

  it("workflow(name, fn, { timeoutMs }) keeps a valid limit and refuses others", () => {
    expect(workflow("w", async () => null, { timeoutMs: 2500 }).timeoutMs).toBe(2500);
    expect(workflow("w", async () => null).timeoutMs).toBeUndefined();
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => workflow("w", async () => null, { timeoutMs: bad })).toThrow(expect.objectContaining({ code: "BIFROST_VALIDATION", message: expect.stringContaining("timeoutMs") }));
    }
  });
});
