/**
 * What the services' command lines (commander 14) have in common: help and
 * errors written to injectable streams and returned as an exit code, argument
 * checks that turn a parser's message into a usage error, and the TLS and
 * log-level flags.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";

export interface FlagIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own stdout and stderr, for a bin's main. */
export const PROCESS_IO: FlagIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A parsed command line, or the exit code after help, version or a usage error was written. */
export type ParsedFlags<C> = { config: C } | { exitCode: number };

export const LOG_LEVELS: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal"];

/** A commander argument parser from a function that throws: its message becomes the usage error. */
export function argParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** An argument parser that keeps the text once `check` (which throws on bad input) accepts it. */
export function checkedArg(check: (value: string) => unknown): (value: string) => string {
  return argParser((value) => {
    check(value);
    return value;
  });
}

/** A program whose output goes to io and that throws instead of exiting the process. */
export function cliProgram(name: string, description: string, io: FlagIo): Command {
  return new Command(name).description(description).configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride().showHelpAfterError();
}

export interface TlsFlagHelp {
  cert: string;
  key: string;
  ca: string;
}

export interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** PEM file paths from the TLS flags (the shape of @svcbgp/api's TlsFiles). */
export interface TlsFlagFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

/** Adds --tls-cert, --tls-key and --tls-ca; the help says which side of the connection they are for. */
export function addTlsOptions(program: Command, help: TlsFlagHelp): Command {
  return program.option("--tls-cert <file>", help.cert).option("--tls-key <file>", help.key).option("--tls-ca <file>", help.ca);
}

/** Adds --log-level, defaulting to $SVCBGP_LOG_LEVEL, else info. */
export function addLogLevelOption(program: Command, env: NodeJS.ProcessEnv, levels: readonly string[] = LOG_LEVELS): Command {
  return program.addOption(new Option("--log-level <level>", "log level").choices(levels).default(env.SVCBGP_LOG_LEVEL ?? "info"));
}

/** The TLS files, after the usage check both sides share: a certificate and its key go together. */
export function tlsFlagFiles(program: Command, flags: TlsFlags): TlsFlagFiles {
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) program.error("error: --tls-cert and --tls-key go together");
  return { cert: flags.tlsCert, key: flags.tlsKey, ca: flags.tlsCa };
}

/**
 * Parses argv (without node and script) and builds the config from the
 * parsed program; a CommanderError (help, version, usage error, including
 * program.error() in build) comes back as its exit code.
 */
export function parseProgram<C>(program: Command, argv: string[], build: (program: Command) => C): ParsedFlags<C> {
  try {
    program.parse(argv, { from: "user" });
    return { config: build(program) };
  } catch (err) {
    if (err instanceof CommanderError) return { exitCode: err.exitCode };
    throw err;
  }
}
