/** The child side of the bench JSON-lines protocol. */
import { createInterface } from "node:readline";

export function report(type: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`@@bench ${JSON.stringify({ type, ...fields })}\n`);
}

/** Calls `handler` for each command the parent sends; the process exits when stdin closes or on SIGTERM, after `cleanup`. */
export function onCommands(handler: (command: { type: string; [field: string]: unknown }) => void | Promise<void>, cleanup: () => Promise<void> | void = () => {}): void {
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  };
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (!line.trim()) return;
    Promise.resolve(handler(JSON.parse(line))).catch((err: unknown) => {
      report("error", { message: err instanceof Error ? err.stack ?? err.message : String(err) });
    });
  });
  process.stdin.on("end", () => void exit());
  process.on("SIGTERM", () => void exit());
}

export function arg(name: string, fallback?: string): string {
  const prefix = `--${name}=`;
  const found = process.argv.find((a) => a.startsWith(prefix));
  if (found) return found.slice(prefix.length);
  if (fallback === undefined) throw new Error(`missing --${name}=`);
  return fallback;
}
