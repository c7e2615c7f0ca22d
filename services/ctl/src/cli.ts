/**
 * svcbgpctl: the operator's view of the watcher (what each node should
 * advertise, and why) and of a speaker (what its sessions and RIBs hold).
 */
import { Command, Option } from "commander";
import * as grpc from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import {
  AddressFamily,
  ExplainServiceResponseSchema,
  IntentService,
  NodeIntentSchema,
  NodeSummarySchema,
  PeerStatusSchema,
  RibRouteSchema,
  RibTable,
  RouteSchema,
  SpeakerService,
  channelCredentials,
  createClient,
  type RibRoute,
  type ServiceClient,
  type TlsFiles,
} from "@svcbgp/api";
import { comparePrefixText } from "@svcbgp/config";
import { explainTable, intentTable, nodesTable, peersTable, ribTable, routesTable } from "./format.js";
import { OUTPUT_FORMATS, formatData, toJsonArray, toJsonValue, type OutputFormat } from "./output.js";

export const DEFAULT_WATCHER = "127.0.0.1:50051";
export const DEFAULT_SPEAKER = "127.0.0.1:50052";
const CALL_DEADLINE_MS = 10_000;
/** What `intent` prints instead of a peer password. */
const REDACTED = "<redacted>";

const RIB_TABLES: Record<string, RibTable> = { intent: RibTable.INTENT, "adj-in": RibTable.ADJ_IN, "adj-out": RibTable.ADJ_OUT };
const FAMILIES: Record<string, AddressFamily> = { ipv4: AddressFamily.IPV4, ipv6: AddressFamily.IPV6 };

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface GlobalOptions {
  watcher: string;
  speaker: string;
  output: OutputFormat;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** An error the CLI reports as one line and exit status 1. */
class CliError extends Error {}

function describeGrpcError(err: unknown, what: string, target: string): Error {
  const code = (err as { code?: number }).code;
  const details = (err as { details?: string }).details ?? (err as Error).message;
  if (code === grpc.status.UNAVAILABLE) return new CliError(`cannot reach the ${what} at ${target}: ${details}`);
  if (code === grpc.status.DEADLINE_EXCEEDED) return new CliError(`the ${what} at ${target} did not answer in time`);
  if (code === grpc.status.NOT_FOUND) return new CliError(details);
  return new CliError(`${what} ${target}: ${details}`);
}

export function buildCli(io: CliIo): Command {
  const program = new Command("svcbgpctl")
    .description("Inspect svcbgp: what the watcher wants each node to advertise, and what each speaker's BGP sessions hold.")
    .option("--watcher <host:port>", "watcher gRPC address", process.env.SVCBGP_WATCHER ?? DEFAULT_WATCHER)
    .option("--speaker <host:port>", "speaker gRPC address", process.env.SVCBGP_SPEAKER ?? DEFAULT_SPEAKER)
    .addOption(new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table"))
    .option("--tls-ca <file>", "CA bundle to verify the server (enables TLS)")
    .option("--tls-cert <file>", "client certificate for mTLS")
    .option("--tls-key <file>", "client key for mTLS")
    .showHelpAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  const globals = () => program.opts<GlobalOptions>();
  const tls = (): TlsFiles => ({ ca: globals().tlsCa, cert: globals().tlsCert, key: globals().tlsKey });
  /** Runs `fn` with a client for `service` at the chosen address, naming that address in any error. */
  const withClient = async <S extends DescService, T>(service: S, what: "watcher" | "speaker", fn: (client: ServiceClient<S>) => Promise<T>): Promise<T> => {
    const target = globals()[what];
    const client = createClient(service, target, { credentials: channelCredentials(tls()) });
    try {
      return await fn(client);
    } catch (err) {
      throw err instanceof CliError ? err : describeGrpcError(err, what, target);
    } finally {
      client.close();
    }
  };
  const withWatcher = <T>(fn: (client: ServiceClient<typeof IntentService>) => Promise<T>) => withClient(IntentService, "watcher", fn);
  const withSpeaker = <T>(fn: (client: ServiceClient<typeof SpeakerService>) => Promise<T>) => withClient(SpeakerService, "speaker", fn);
  const print = (table: () => string, data: () => Parameters<typeof formatData>[0], empty: string) => {
    const format = globals().output;
    if (format === "table") io.stdout(table() || `${empty}\n`);
    else io.stdout(formatData(data(), format));
  };

  program
    .command("routes")
    .description("routes the watcher wants a node to advertise (-o json: an array of Route sorted by prefix)")
    .requiredOption("--node <name>", "Kubernetes node name")
    .action((opts: { node: string }) =>
      withWatcher(async (client) => {
        const { intent } = await client.getIntent({ nodeName: opts.node }, { deadline: CALL_DEADLINE_MS });
        const routes = [...(intent?.routes ?? [])].sort((a, b) => comparePrefixText(a.prefix, b.prefix));
        print(() => routesTable(routes), () => toJsonArray(RouteSchema, routes), `node ${opts.node} advertises no routes`);
      }),
    );

  program
    .command("intent")
    .description("a node's whole intent: peers and routes")
    .requiredOption("--node <name>", "Kubernetes node name")
    .action((opts: { node: string }) =>
      withWatcher(async (client) => {
        const { revision, intent } = await client.getIntent({ nodeName: opts.node }, { deadline: CALL_DEADLINE_MS });
        if (!intent) throw new CliError(`the watcher has no intent for node ${opts.node}`);
        // Peer passwords are the speaker's to use, not the terminal's or a pasted bug report's.
        const shown = { ...intent, peers: intent.peers.map((p) => (p.password ? { ...p, password: REDACTED } : p)) };
        print(() => intentTable(revision, shown), () => toJsonValue(NodeIntentSchema, shown), "");
      }),
    );

  program
    .command("nodes")
    .description("nodes the watcher computes intents for")
    .action(() =>
      withWatcher(async (client) => {
        const { nodes } = await client.listNodes({}, { deadline: CALL_DEADLINE_MS });
        print(() => nodesTable(nodes), () => toJsonArray(NodeSummarySchema, nodes), "no nodes");
      }),
    );

  program
    .command("explain")
    .description("for each IP of a Service and each node: advertised or not, and why")
    .argument("<namespace/name>", "the Service")
    .action((ref: string) =>
      withWatcher(async (client) => {
        const [namespace, name, ...rest] = ref.split("/");
        if (!namespace || !name || rest.length) throw new CliError(`"${ref}" is not namespace/name`);
        const response = await client.explainService({ namespace, name }, { deadline: CALL_DEADLINE_MS });
        if (!response.found) throw new CliError(`service ${ref} not found by the watcher`);
        print(() => explainTable(response), () => toJsonValue(ExplainServiceResponseSchema, response), `service ${ref} has no IPs`);
      }),
    );

  program
    .command("peers")
    .description("the speaker's BGP sessions")
    .action(() =>
      withSpeaker(async (client) => {
        const { peers } = await client.listPeers({}, { deadline: CALL_DEADLINE_MS });
        print(() => peersTable(peers), () => toJsonArray(PeerStatusSchema, peers), "no peers");
      }),
    );

  program
    .command("rib")
    .description("routes in the speaker's intent or per-peer RIBs")
    .addOption(new Option("--table <table>", "which table").choices(Object.keys(RIB_TABLES)).default("adj-out"))
    .option("--peer <ip>", "only this peer")
    .option("--prefix <cidr>", "only routes equal to or inside this prefix")
    .addOption(new Option("--family <family>", "only this address family").choices(Object.keys(FAMILIES)))
    .action((opts: { table: string; peer?: string; prefix?: string; family?: string }) =>
      withSpeaker(async (client) => {
        const routes: RibRoute[] = [];
        const request = {
          table: RIB_TABLES[opts.table],
          peer: opts.peer ?? "",
          prefix: opts.prefix ?? "",
          family: opts.family ? FAMILIES[opts.family] : AddressFamily.UNSPECIFIED,
        };
        for await (const batch of client.listRoutes(request, { deadline: CALL_DEADLINE_MS })) routes.push(...batch.routes);
        print(() => ribTable(routes), () => toJsonArray(RibRouteSchema, routes), `no routes in ${opts.table}`);
      }),
    );

  return program;
}

/** Runs the CLI; resolves to the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === "string" && code.startsWith("commander.")) {
      return code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help" ? 0 : ((err as { exitCode?: number }).exitCode ?? 1);
    }
    io.stderr(`svcbgpctl: ${(err as Error).message}\n`);
    return 1;
  }
}
