/** Command-line flags → SpeakerConfig (commander 14). */
import { Option } from "commander";
import { parseHostPort } from "@svcbgp/api";
import { parseDuration } from "@svcbgp/config";
import { addLogLevelOption, addTlsOptions, argParser, checkedArg, cliProgram, parseProgram, tlsFlagFiles, type FlagIo, type ParsedFlags as Parsed, type TlsFlags } from "@svcbgp/telemetry";
import { DEFAULT_API_LISTEN, DEFAULT_HTTP_LISTEN, type SpeakerConfig } from "./speaker.js";

export type { FlagIo };

const hostPort = checkedArg(parseHostPort);
const duration = argParser(parseDuration);

interface Flags extends TlsFlags {
  nodeName?: string;
  watcher?: string;
  intentFile?: string;
  apiListen: string;
  httpListen: string;
  staleIntentTimeout?: number;
  logLevel: string;
}

export type ParsedFlags = Parsed<SpeakerConfig & { logLevel: string }>;

/** Parses argv (without node and script). Help, version and errors come back as an exit code after writing to io. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv, io: FlagIo): ParsedFlags {
  const program = cliProgram("svcbgp-speaker", "Follows a node's intent (from a watcher or a file) and advertises its routes to its BGP peers.", io)
    .option("--node-name <name>", "this node's name (default: $NODE_NAME)", env.NODE_NAME)
    .addOption(new Option("--watcher <host:port>", "follow the intent from a watcher's IntentService").argParser(hostPort).conflicts("intentFile"))
    .addOption(new Option("--intent-file <file>", "follow a NodeIntent file (proto3 JSON, as JSON or YAML)"))
    .option("--api-listen <host:port>", "SpeakerService gRPC address (loopback unless you mean it)", hostPort, DEFAULT_API_LISTEN)
    .option("--http-listen <host:port>", "metrics, /livez and /readyz", hostPort, DEFAULT_HTTP_LISTEN)
    .option("--stale-intent-timeout <duration>", "withdraw routes once the watcher has been unreachable this long, e.g. 10m (default: never)", duration);
  addTlsOptions(program, { cert: "client certificate for mTLS to the watcher", key: "client key for mTLS to the watcher", ca: "CA bundle to verify the watcher (enables TLS)" });
  addLogLevelOption(program, env);
  return parseProgram(program, argv, () => {
    const flags = program.opts<Flags>();
    if (!flags.watcher === !flags.intentFile) program.error("error: give exactly one of --watcher and --intent-file");
    if (flags.watcher && !flags.nodeName) program.error("error: --node-name (or NODE_NAME) is required with --watcher");
    if (flags.staleIntentTimeout !== undefined && !flags.watcher) program.error("error: --stale-intent-timeout applies to --watcher only");
    const tls = tlsFlagFiles(program, flags);
    return {
      nodeName: flags.nodeName,
      watcher: flags.watcher,
      intentFile: flags.intentFile,
      apiListen: flags.apiListen,
      httpListen: flags.httpListen,
      staleIntentTimeoutMs: flags.staleIntentTimeout,
      tls,
      logLevel: flags.logLevel,
    };
  });
}
