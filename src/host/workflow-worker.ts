/** The entry of a workflow worker thread started from src/ or dist/ (workflow-pool.ts); the CLI bundle has its own (`workflowWorker` of its runtime file). */
import { serveWorkflowThread } from "./workflow-thread.js";

serveWorkflowThread();
