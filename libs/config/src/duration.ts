/**
 * Go duration strings ("30s", "2m", "1h30m", "1.5s", "500ms"), the format
 * Calico's BGPPeer keepaliveTime / maxRestartTime use (metav1.Duration).
 */

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  "μs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const COMPONENT = /([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/y;

/** Seconds in a Go duration, or undefined when the text is not one. Negative durations are rejected. */
export function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  if (text.length === 0 || text.startsWith("-")) return undefined;
  const body = text.startsWith("+") ? text.slice(1) : text;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    COMPONENT.lastIndex = index;
    const match = COMPONENT.exec(body);
    if (!match || match[1] === "" || match[1] === ".") return undefined;
    total += Number(match[1]) * UNIT_SECONDS[match[2]];
    index = COMPONENT.lastIndex;
  }
  return index > 0 ? total : undefined;
}

/**
 * Whole seconds for a BGP timer. BGP timers are in seconds on the wire, so a
 * sub-second remainder rounds up rather than silently becoming 0 ("disabled").
 */
export function durationToSeconds(text: string): number | undefined {
  const seconds = parseGoDuration(text);
  return seconds === undefined ? undefined : Math.ceil(seconds - 1e-9);
}
