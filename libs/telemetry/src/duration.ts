/** Go-style durations ("90s", "1m30s", "500ms", "2h"), as Kubernetes and Calico write them. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;

/** Milliseconds, or throws with the offending text. A bare number is seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  let rest = trimmed;
  let total = 0;
  if (!rest) throw new Error(`"${text}" is not a duration (e.g. 90s, 1m30s, 500ms)`);
  while (rest) {
    const match = DURATION.exec(rest);
    if (!match) throw new Error(`"${text}" is not a duration (e.g. 90s, 1m30s, 500ms)`);
    total += Number(match[1]) * UNIT_MS[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}
