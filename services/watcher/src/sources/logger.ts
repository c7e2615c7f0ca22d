/**
 * The smallest logger the sources need. pino's Logger satisfies it, so the
 * service passes its pino instance; tests and library users can pass nothing.
 */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

export interface SourceLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const ignore: LogFn = () => undefined;

export const noopLogger: SourceLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** A one-line description of an unknown thrown value, for logs and status. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "object" && err !== null) {
    try {
      return JSON.stringify(err);
    } catch {
      return String(err);
    }
  }
  return String(err);
}
