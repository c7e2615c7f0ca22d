/** The printed summary. */
import type { Machine } from "./machine.js";
import type { BenchResult, SummaryRow } from "./types.js";

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

export function ratioOf(row: SummaryRow): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  const first = Object.values(row.references)[0];
  if (first === undefined || !Number.isFinite(first) || first === 0 || !Number.isFinite(row.svcbgp)) return undefined;
  return row.svcbgp / first;
}

export function formatRow(row: SummaryRow): string {
  const refs = Object.entries(row.references)
    .map(([name, value]) => `${name} ${fmt(value, row.unit)}`)
    .join(", ");
  const ratio = ratioOf(row);
  const target = row.target ? `  target ${row.target}${row.met === undefined ? "" : row.met ? " ✓" : " ✗"}` : "";
  return `  ${row.metric.padEnd(44)} svcbgp ${fmt(row.svcbgp, row.unit).padStart(11)}${refs ? `   vs ${refs}` : ""}${ratio !== undefined ? `   ×${ratio.toFixed(2)}` : ""}${target}`;
}

export function formatSummary(result: BenchResult): string {
  const lines = [`  ${result.title} (${(result.durationMs / 1000).toFixed(0)} s)`, ...result.summary.map(formatRow)];
  for (const note of result.notes) lines.push(`    · ${note}`);
  return lines.join("\n");
}

function cell(value: number, unit: string): string {
  return fmt(value, unit).replace(/ /g, " ");
}

/** The run as Markdown tables, for docs/benchmarks.md (bench-results/<mode>.md). */
export function formatMarkdown(report: { date: string; mode: string; machine: Machine; results: BenchResult[]; failures: Array<{ name: string; error: string }> }): string {
  const m = report.machine;
  const lines = [
    `Run ${report.date} (${report.mode}) on ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Linux ${m.kernel}, Node ${m.node}, ${m.bird}, ${m.gobgp}; commit ${m.commit}${m.dirty ? " + local changes" : ""}; load average at start ${m.loadAverage.join(" / ")}.`,
    "",
  ];
  for (const result of report.results) {
    lines.push(`### ${result.title}`, "", "| metric | svcbgp | reference(s) | ratio | target |", "|---|---:|---|---:|---|");
    for (const row of result.summary) {
      const refs = Object.entries(row.references)
        .map(([name, value]) => `${name} ${cell(value, row.unit)}`)
        .join(", ");
      const ratio = ratioOf(row);
      lines.push(`| ${row.metric} | ${cell(row.svcbgp, row.unit)} | ${refs || "—"} | ${ratio !== undefined ? `×${ratio.toFixed(2)}` : "—"} | ${row.target ? `${row.target} ${row.met === undefined ? "" : row.met ? "✓" : "✗"}` : ""} |`);
    }
    lines.push("");
    for (const note of result.notes) lines.push(`- ${note}`);
    lines.push("");
  }
  for (const failure of report.failures) lines.push(`**${failure.name} failed:** ${failure.error.split("\n")[0]}`, "");
  return lines.join("\n");
}
