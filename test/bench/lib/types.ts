/** What a benchmark returns to the runner. */

export interface BenchContext {
  quick: boolean;
  /** Write V8 CPU profiles of the svcbgp child processes into this directory. */
  cpuProfDir: string | undefined;
  log(message: string): void;
  /** Path of a bundled child entry point (test/bench/children/<name>.ts). */
  child(name: string): Promise<string>;
  /** Node flags for svcbgp children (adds --cpu-prof when asked). */
  nodeFlags(label: string, extra?: string[]): string[];
}

/** One line of the printed summary: svcbgp's figure against the reference measured in the same run. */
export interface SummaryRow {
  metric: string;
  unit: string;
  svcbgp: number;
  /** Reference name → figure. */
  references: Record<string, number>;
  /** svcbgp ÷ the first reference (lower is better for times and memory). */
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  /** Everything measured, for the JSON file. */
  figures: Record<string, unknown>;
  summary: SummaryRow[];
  notes: string[];
  durationMs: number;
}

export type Bench = (ctx: BenchContext) => Promise<Omit<BenchResult, "durationMs" | "name">>;
