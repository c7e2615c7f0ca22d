/** Command-line flags → WatcherConfig (commander 14). */
import { parseHostPort } from "@svcbgp/api";
import { parseDuration } from "@svcbgp/config";
import { LOG_LEVELS, addLogLevelOption, addTlsOptions, argParser, checkedArg, cliProgram, parseProgram, tlsFlagFiles, type FlagIo, type ParsedFlags as Parsed, type TlsFlags } from "@svcbgp/telemetry";
import { DEFAULT_HTTP_LISTEN, DEFAULT_LISTEN, DEFAULT_NAMESPACE, DEFAULT_STALE_AFTER_MS, type WatcherConfig } from "./watcher.js";

interface Flags extends TlsFlags {
  manifests?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  listen: string;
  httpListen: string;
  namespace: string;
  logLevel: string;
  staleAfter?: number;
}

export type { FlagIo };

export type ParsedFlags = Parsed<WatcherConfig & { logLevel: string }>;

/** Parses argv (without node and script). Help and errors come back as an exit code after writing to io. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv, io: FlagIo): ParsedFlags {
  const hostPort = checkedArg(parseHostPort);
  const program = cliProgram(
    "svcbgp-watcher",
    "Computes the routes each node should advertise from Kubernetes objects (or a directory of manifests) and streams them to the speakers.",
    io,
  )
    .option("--manifests <dir>", "read objects from the YAML/JSON files under DIR, re-read on change (the local stack)")
    .option("--kubeconfig <file>", "watch the cluster this kubeconfig points at")
    .option("--in-cluster", "watch the cluster this pod runs in (service account)")
    .option("--listen <host:port>", "IntentService gRPC address", hostPort, DEFAULT_LISTEN)
    .option("--http-listen <host:port>", "/metrics, /livez and /readyz", hostPort, DEFAULT_HTTP_LISTEN)
    .option("--namespace <ns>", "namespace of the BGPPeer password Secrets (the watcher's own)", DEFAULT_NAMESPACE);
  addTlsOptions(program, {
    cert: "server certificate (enables TLS)",
    key: "server key",
    ca: "CA bundle: clients must present a certificate it signed (mTLS)",
  });
  addLogLevelOption(program, env, [...LOG_LEVELS, "silent"]);
  program.option(
    "--stale-after <duration>",
    `restart an informer that saw no event or bookmark for this long, e.g. 5m; 0 disables (default ${DEFAULT_STALE_AFTER_MS / 60_000}m)`,
    argParser(parseDuration),
  );
  return parseProgram(program, argv, () => {
    const flags = program.opts<Flags>();
    const sources = [flags.manifests !== undefined, flags.kubeconfig !== undefined, flags.inCluster === true].filter(Boolean).length;
    if (sources !== 1) program.error("error: give exactly one of --manifests, --kubeconfig and --in-cluster");
    const tls = tlsFlagFiles(program, flags);
    if (flags.tlsCa && !flags.tlsCert) program.error("error: --tls-ca (mTLS) needs --tls-cert and --tls-key");
    if (flags.staleAfter !== undefined && flags.manifests !== undefined) program.error("error: --stale-after applies to --kubeconfig and --in-cluster");
    if (!flags.namespace) program.error("error: --namespace must not be empty");
    return {
      source: flags.manifests !== undefined ? { kind: "manifests", dir: flags.manifests } : { kind: "kubernetes", kubeconfig: flags.kubeconfig },
      listen: flags.listen,
      httpListen: flags.httpListen,
      namespace: flags.namespace,
      tls,
      staleAfterMs: flags.staleAfter ?? DEFAULT_STALE_AFTER_MS,
      logLevel: flags.logLevel,
    };
  });
}
