/** Command-line flags → WatcherConfig (commander 14). */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseHostPort } from "@svcbgp/api";
import { parseDuration } from "@svcbgp/config";
import { DEFAULT_HTTP_LISTEN, DEFAULT_LISTEN, DEFAULT_NAMESPACE, DEFAULT_STALE_AFTER_MS, type WatcherConfig } from "./watcher.js";

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
  manifests?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  listen: string;
  httpListen: string;
  namespace: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  logLevel: string;
  staleAfter?: number;
}

export interface FlagIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type ParsedFlags = { config: WatcherConfig & { logLevel: string } } | { exitCode: number };

/** Parses argv (without node and script). Help and errors come back as an exit code after writing to io. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv, io: FlagIo): ParsedFlags {
  const program = new Command("svcbgp-watcher")
    .description("Computes the routes each node should advertise from Kubernetes objects (or a directory of manifests) and streams them to the speakers.")
    .option("--manifests <dir>", "read objects from the YAML/JSON files under DIR, re-read on change (the local stack)")
    .option("--kubeconfig <file>", "watch the cluster this kubeconfig points at")
    .option("--in-cluster", "watch the cluster this pod runs in (service account)")
    .option("--listen <host:port>", "IntentService gRPC address", hostPort, DEFAULT_LISTEN)
    .option("--http-listen <host:port>", "/metrics, /livez and /readyz", hostPort, DEFAULT_HTTP_LISTEN)
    .option("--namespace <ns>", "namespace of the BGPPeer password Secrets (the watcher's own)", DEFAULT_NAMESPACE)
    .option("--tls-cert <file>", "server certificate (enables TLS)")
    .option("--tls-key <file>", "server key")
    .option("--tls-ca <file>", "CA bundle: clients must present a certificate it signed (mTLS)")
    .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default(env.SVCBGP_LOG_LEVEL ?? "info"))
    .option("--stale-after <duration>", `restart an informer that saw no event or bookmark for this long, e.g. 5m; 0 disables (default ${DEFAULT_STALE_AFTER_MS / 60_000}m)`, duration)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError();
  try {
    program.parse(argv, { from: "user" });
    const flags = program.opts<Flags>();
    const sources = [flags.manifests !== undefined, flags.kubeconfig !== undefined, flags.inCluster === true].filter(Boolean).length;
    if (sources !== 1) program.error("error: give exactly one of --manifests, --kubeconfig and --in-cluster");
    if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) program.error("error: --tls-cert and --tls-key go together");
    if (flags.tlsCa && !flags.tlsCert) program.error("error: --tls-ca (mTLS) needs --tls-cert and --tls-key");
    if (flags.staleAfter !== undefined && flags.manifests !== undefined) program.error("error: --stale-after applies to --kubeconfig and --in-cluster");
    if (!flags.namespace) program.error("error: --namespace must not be empty");
    return {
      config: {
        source: flags.manifests !== undefined ? { kind: "manifests", dir: flags.manifests } : { kind: "kubernetes", kubeconfig: flags.kubeconfig },
        listen: flags.listen,
        httpListen: flags.httpListen,
        namespace: flags.namespace,
        tls: { cert: flags.tlsCert, key: flags.tlsKey, ca: flags.tlsCa },
        staleAfterMs: flags.staleAfter ?? DEFAULT_STALE_AFTER_MS,
        logLevel: flags.logLevel,
      },
    };
  } catch (err) {
    if (err instanceof CommanderError) return { exitCode: err.exitCode };
    throw err;
  }
}
