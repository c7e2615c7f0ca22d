/** Command-line flags → SpeakerConfig (commander 14). */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseHostPort } from "@svcbgp/api";
import { parseDuration } from "@svcbgp/telemetry";
import { DEFAULT_API_LISTEN, DEFAULT_HTTP_LISTEN, type SpeakerConfig } from "./speaker.js";

function hostPort(value: string): string {
  try {
    parseHostPort(value);
    return value;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

interface Flags {
  nodeName?: string;
  watcher?: string;
  intentFile?: string;
  apiListen: string;
  httpListen: string;
  staleIntentTimeout?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  logLevel: string;
}

export interface FlagIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type ParsedFlags = { config: SpeakerConfig & { logLevel: string } } | { exitCode: number };

/** Parses argv (without node and script). Help, version and errors come back as an exit code after writing to io. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv, io: FlagIo): ParsedFlags {
  const program = new Command("svcbgp-speaker")
    .description("Follows a node's intent (from a watcher or a file) and advertises its routes to its BGP peers.")
    .option("--node-name <name>", "this node's name (default: $NODE_NAME)", env.NODE_NAME)
    .addOption(new Option("--watcher <host:port>", "follow the intent from a watcher's IntentService").argParser(hostPort).conflicts("intentFile"))
    .addOption(new Option("--intent-file <file>", "follow a NodeIntent file (proto3 JSON, as JSON or YAML)"))
    .option("--api-listen <host:port>", "SpeakerService gRPC address (loopback unless you mean it)", hostPort, DEFAULT_API_LISTEN)
    .option("--http-listen <host:port>", "metrics, /livez and /readyz", hostPort, DEFAULT_HTTP_LISTEN)
    .option("--stale-intent-timeout <duration>", "withdraw routes once the watcher has been unreachable this long, e.g. 10m (default: never)", duration)
    .option("--tls-cert <file>", "client certificate for mTLS to the watcher")
    .option("--tls-key <file>", "client key for mTLS to the watcher")
    .option("--tls-ca <file>", "CA bundle to verify the watcher (enables TLS)")
    .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal"]).default(env.SVCBGP_LOG_LEVEL ?? "info"))
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError();
  try {
    program.parse(argv, { from: "user" });
    const flags = program.opts<Flags>();
    if (!flags.watcher === !flags.intentFile) program.error("error: give exactly one of --watcher and --intent-file");
    if (flags.watcher && !flags.nodeName) program.error("error: --node-name (or NODE_NAME) is required with --watcher");
    if (flags.staleIntentTimeout !== undefined && !flags.watcher) program.error("error: --stale-intent-timeout applies to --watcher only");
    if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) program.error("error: --tls-cert and --tls-key go together");
    return {
      config: {
        nodeName: flags.nodeName,
        watcher: flags.watcher,
        intentFile: flags.intentFile,
        apiListen: flags.apiListen,
        httpListen: flags.httpListen,
        staleIntentTimeoutMs: flags.staleIntentTimeout,
        tls: { cert: flags.tlsCert, key: flags.tlsKey, ca: flags.tlsCa },
        logLevel: flags.logLevel,
      },
    };
  } catch (err) {
    if (err instanceof CommanderError) return { exitCode: err.exitCode };
    throw err;
  }
}
