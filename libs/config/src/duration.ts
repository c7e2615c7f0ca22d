/**
 * Go duration strings ("30s", "2m", "1h30m", "1.5s", "500ms"), the format
 * Calico's BGPPeer keepaliveTime / maxRestartTime use (metav1.Duration), and
 * the format of the binaries' duration flags.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds in a Go duration, or undefined when the text is not one. Negative durations are rejected. */
function goDurationMs(text: string): number | undefined {
  if (text === "0") return 0;
  if (text.length === 0 || text.startsWith("-")) return undefined;
  const body = text.startsWith("+") ? text.slice(1) : text;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    COMPONENT.lastIndex = index;
    const match = COMPONENT.exec(body);
    if (!match || match[1] === "" || match[1] === ".") return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
    index = COMPONENT.lastIndex;
  }
  return index > 0 ? total : undefined;
}

/** Seconds in a Go duration, or undefined when the text is not one. Negative durations are rejected. */
export function parseGoDuration(text: string): number | undefined {
  const ms = goDurationMs(text);
  return ms === undefined ? undefined : ms / 1000;
}

/**
 * Whole seconds for a BGP timer. BGP timers are in seconds on the wire, so a
 * sub-second remainder rounds up rather than silently becoming 0 ("disabled").
 */
export function durationToSeconds(text: string): number | undefined {
  const seconds = parseGoDuration(text);
  return seconds === undefined ? undefined : Math.ceil(seconds - 1e-9);
}

/**
 * Milliseconds in a command-line duration ("90s", "1m30s", "500ms", "2h"):
 * a Go duration, or a bare whole number of seconds; surrounding white space
 * is ignored. Throws with the offending text.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : goDurationMs(trimmed);
  if (ms === undefined) throw new Error(`"${text}" is not a duration (e.g. 90s, 1m30s, 500ms)`);
  return ms;
}
