/** Progress events from spec loading and emission; the CLI renders them as a bar on a TTY. */
export type GeneratorPhase = "download" | "parse" | "bundle" | "convert" | "validate" | "emit" | "done";

export interface ProgressEvent {
  phase: GeneratorPhase;
  /** Units done in this phase (bytes for download, operations for emit); absent for one-shot phases. */
  done?: number;
  /** Total units, when known. */
  total?: number | null;
  message?: string;
}

export type ProgressReporter = (event: ProgressEvent) => void;

export const noProgress: ProgressReporter = () => undefined;
