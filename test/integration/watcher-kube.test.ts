/**
 * The whole watcher in cluster mode: the in-process Kubernetes API server →
 * client-node's real informers → route engine → intent hub → a real gRPC
 * port, followed by one speaker-like client per node. Every event each
 * client receives is recorded, so the disruptions a real API server
 * produces (410 Gone, a dropped watch, a restart) can be shown to withdraw
 * nothing that is still wanted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { IntentService, createClient, type Peer } from "@svcbgp/api";
import { startWatcher, type Watcher } from "../../services/watcher/src/watcher.js";
import { KubeApiServer, type ApiObject } from "../support/kube-api-server.js";
import { eventually, waitFor } from "../support/wait.js";
import { captureLogger, StreamFollower } from "./watcher-support.js";

const NAMESPACE = "svcbgp-system";
const PASSWORD = "s3cret-pw";
const NODES = ["node-1", "node-2", "node-3"];
const NODE_IPS: Record<string, string> = { "node-1": "192.168.1.10", "node-2": "192.168.1.11", "node-3": "192.168.1.12" };

// ---- objects ------------------------------------------------------------------

function node(name: string): ApiObject {
  return { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } }, status: { addresses: [{ type: "InternalIP", address: NODE_IPS[name] }] } };
}

function service(name: string, spec: Record<string, unknown>): ApiObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { type: "ClusterIP", ports: [{ port: 80 }], ...spec } };
}

function endpointSlice(name: string, serviceName: string, nodes: string[]): ApiObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": serviceName } },
    addressType: "IPv4",
    endpoints: nodes.map((n, i) => ({ addresses: [`10.48.${i + 1}.${i + 5}`], conditions: { ready: true }, nodeName: n })),
    ports: [{ port: 80 }],
  };
}

/** A Service with one externalIP, traffic policy Local, and its endpoints on `nodes`. */
function localService(name: string, ip: string, nodes: string[]): ApiObject[] {
  return [service(name, { externalIPs: [ip], externalTrafficPolicy: "Local" }), endpointSlice(`${name}-1`, name, nodes)];
}

function secret(name: string, password: string): ApiObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: NAMESPACE }, type: "Opaque", data: { password: Buffer.from(password).toString("base64") } };
}

function bgpPeer(name: string, spec: Record<string, unknown>): ApiObject {
  return { apiVersion: "svcbgp.io/v1", kind: "BGPPeer", metadata: { name }, spec };
}

const torPeer = (secretName = "tor-password") => bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512, password: { secretKeyRef: { name: secretName, key: "password" } } });

const seed: ApiObject[] = [
  ...NODES.map(node),
  { apiVersion: "svcbgp.io/v1", kind: "BGPConfiguration", metadata: { name: "default" }, spec: { serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] } },
  secret("tor-password", PASSWORD),
  torPeer(),
  service("nginx", { clusterIP: "10.49.62.131", clusterIPs: ["10.49.62.131"], externalIPs: ["192.168.3.180"], externalTrafficPolicy: "Local" }),
  endpointSlice("nginx-7k2xq", "nginx", ["node-2", "node-3"]),
];

const AGGREGATES = ["10.49.0.0/16", "192.168.3.0/24"];
const NGINX = ["10.49.62.131/32", "192.168.3.180/32"];

/** Expected prefixes per node: the aggregates everywhere plus host routes by node, sorted as intents sort them. */
function expected(hostRoutes: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(NODES.map((n) => [n, [...AGGREGATES, ...(hostRoutes[n] ?? [])].sort()]));
}

const SEED_ROUTES = expected({ "node-2": NGINX, "node-3": NGINX });

function torFor(nodeName: string, password = PASSWORD): Partial<Peer> {
  return { address: "192.168.1.1", port: 0, asn: 64512, sourceAddress: NODE_IPS[nodeName], password, name: "tor" };
}

// ---- harness --------------------------------------------------------------------

let server: KubeApiServer;
let watcher: Watcher;
let followers: StreamFollower[];
const logs = captureLogger();

const follower = (name: string) => followers.find((f) => f.nodeName === name)!;

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${watcher.httpPort}${path}`);
  return { status: res.status, body: await res.text() };
}

/** Every client holds exactly the engine's intent, with these prefixes. */
async function converged(routes: Record<string, string[]>): Promise<void> {
  await eventually(() => {
    for (const f of followers) {
      expect(f.errors).toEqual([]);
      expect(f.prefixes, f.nodeName).toEqual(routes[f.nodeName]);
      expect(f.held).toEqual(watcher.engine.intent(f.nodeName));
    }
  });
}

/** Runs a disruption; afterwards every client converges on `after`, and none was told to withdraw a prefix wanted both before and after. */
async function withoutSpuriousWithdrawals(before: Record<string, string[]>, after: Record<string, string[]>, disrupt: () => Promise<void>): Promise<void> {
  const marks = new Map(followers.map((f) => [f.nodeName, f.events.length]));
  await disrupt();
  await converged(after);
  for (const f of followers) {
    const stillWanted = new Set(before[f.nodeName].filter((p) => after[f.nodeName].includes(p)));
    const spurious = f.withdrawalsSince(marks.get(f.nodeName)!).filter((w) => (w.kind === "route" ? stillWanted.has(w.key) : true));
    expect(spurious, `${f.nodeName} was told to withdraw`).toEqual([]);
  }
}

const kindStatus = () => (watcher.source as unknown as { status(): Record<string, { lists: number; restarts: number }> }).status();

beforeAll(async () => {
  server = await KubeApiServer.start();
  for (const object of seed) server.create(object);
  // The API server is down when the watcher starts: speakers connect first and must get nothing until the sync.
  const kubeConfig = server.kubeConfig();
  await server.close();
  watcher = await startWatcher(
    { source: { kind: "kubernetes" }, listen: "127.0.0.1:0", httpListen: "127.0.0.1:0", namespace: NAMESPACE, staleAfterMs: 0 },
    { kubeConfig, logger: logs.logger, kubernetes: { backoff: { initialMs: 20, maxMs: 200 }, minWatchIntervalMs: 10 } },
  );
  followers = NODES.map((n) => new StreamFollower(watcher.address, n));
});

afterAll(async () => {
  await Promise.all((followers ?? []).map((f) => f.close()));
  await watcher?.close();
  await server?.close();
});

describe("svcbgp-watcher against a Kubernetes API server", () => {
  it("serves nothing before the informers have synced, then each node's full intent as its first event", async () => {
    expect((await get("/readyz")).status).toBe(503);
    const client = createClient(IntentService, watcher.address);
    await expect(client.getIntent({ nodeName: "node-1" })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await waitFor(() => watcher.hub.stats().length === 0 && followers.every((f) => f.events.length === 0), 10_000, "streams open and idle");

    await server.listen();
    await watcher.synced;
    await converged(SEED_ROUTES);
    for (const f of followers) {
      expect(f.events[0].event.case).toBe("snapshot");
      expect(f.events[0].event.value).toEqual(f.held);
      expect(f.held?.peers).toEqual([expect.objectContaining(torFor(f.nodeName))]);
      expect(f.held).toMatchObject({ nodeName: f.nodeName, routerId: NODE_IPS[f.nodeName], localAsn: 64512 });
    }
    expect((await get("/readyz")).status).toBe(200);
    const { revision, intent } = await client.getIntent({ nodeName: "node-2" });
    expect(intent).toEqual(follower("node-2").held);
    expect(revision).toBe(follower("node-2").revision);
    client.close();
  });

  it("turns adds, updates and deletes into deltas", async () => {
    const marks = followers.map((f) => f.events.length);
    const [svc, slice] = localService("web", "192.168.3.10", ["node-1"]);
    server.create(svc);
    server.create(slice);
    const withWeb = expected({ "node-1": ["192.168.3.10/32"], "node-2": NGINX, "node-3": NGINX });
    await converged(withWeb);

    // The endpoint moves: node-1 withdraws, node-3 announces.
    server.update(endpointSlice("web-1", "web", ["node-3"]));
    const moved = expected({ "node-2": NGINX, "node-3": [...NGINX, "192.168.3.10/32"] });
    await converged(moved);
    expect(follower("node-1").withdrawalsSince(marks[0])).toEqual([expect.objectContaining({ kind: "route", key: "192.168.3.10/32" })]);

    server.delete(svc);
    server.delete(slice);
    await converged(SEED_ROUTES);
    // node-2 never saw web: it was sent nothing.
    expect(follower("node-2").events.length).toBe(marks[1]);
    for (const f of followers) expect(f.events.slice(marks[followers.indexOf(f)]).every((e) => e.event.case === "delta")).toBe(true);
  });

  it("follows the peer password Secret, and the Secret a BGPPeer names", async () => {
    server.update(secret("tor-password", "rotated-pw"));
    await eventually(() => {
      for (const f of followers) expect(f.held?.peers).toEqual([expect.objectContaining(torFor(f.nodeName, "rotated-pw"))]);
    });
    server.create(secret("tor-password-2", "second-pw"));
    server.update(torPeer("tor-password-2"));
    await eventually(() => {
      for (const f of followers) expect(f.held?.peers).toEqual([expect.objectContaining(torFor(f.nodeName, "second-pw"))]);
    });
    const selectors = server.requestsTo(`/api/v1/namespaces/${NAMESPACE}/secrets`).map((r) => r.query.fieldSelector);
    expect(new Set(selectors)).toEqual(new Set(["metadata.name=tor-password", "metadata.name=tor-password-2"]));
    // Only named Secrets, never a namespace-wide list.
    expect(selectors).not.toContain(undefined);
    await converged(SEED_ROUTES);
  });

  it("re-lists after 410 Gone without withdrawing anything", async () => {
    const lists = kindStatus().Service.lists;
    const [svc, slice] = localService("a", "192.168.3.21", ["node-1"]);
    await withoutSpuriousWithdrawals(SEED_ROUTES, expected({ "node-1": ["192.168.3.21/32"], "node-2": NGINX, "node-3": NGINX }), async () => {
      // Dropped first: events streamed on the old watches would advance the informers past the expired history (no 410).
      server.expireHistory();
      server.dropWatches();
      server.create(svc);
      server.create(slice);
      await waitFor(() => kindStatus().Service.lists > lists, 10_000, "a re-list after 410 Gone");
    });
  });

  it("resumes a dropped watch without withdrawing anything", async () => {
    const before = expected({ "node-1": ["192.168.3.21/32"], "node-2": NGINX, "node-3": NGINX });
    const watches = server.requestsTo("/api/v1/services", true).length;
    await withoutSpuriousWithdrawals(before, expected({ "node-1": ["192.168.3.21/32", "192.168.3.22/32"], "node-2": NGINX, "node-3": NGINX }), async () => {
      expect(server.dropWatches()).toBeGreaterThan(0);
      const [svc, slice] = localService("b", "192.168.3.22", ["node-1"]);
      server.create(svc);
      server.create(slice);
      await waitFor(() => server.requestsTo("/api/v1/services", true).length > watches, 10_000, "the Service watch reconnecting");
    });
  });

  it("survives an API server restart that loses watch history: only what was deleted meanwhile is withdrawn", async () => {
    const before = expected({ "node-1": ["192.168.3.21/32", "192.168.3.22/32"], "node-2": NGINX, "node-3": NGINX });
    const restarts = kindStatus().Service.restarts;
    const after = expected({ "node-1": ["192.168.3.22/32"], "node-2": [...NGINX, "192.168.3.23/32"], "node-3": NGINX });
    await withoutSpuriousWithdrawals(before, after, async () => {
      await server.restart({
        keepHistory: false,
        whileDown: () => {
          for (const object of localService("a", "192.168.3.21", ["node-1"])) server.delete(object);
          for (const object of localService("c", "192.168.3.23", ["node-2"])) server.create(object);
        },
      });
      await waitFor(() => kindStatus().Service.restarts > restarts, 10_000, "informers restarting");
    });
    expect(follower("node-1").withdrawals.at(-1)).toMatchObject({ kind: "route", key: "192.168.3.21/32" });
    const metrics = (await get("/metrics")).body;
    expect(metrics).toMatch(/^svcbgp_watcher_source_restarts_total\{kind="Service"\} [1-9]/m);
    expect(metrics).toMatch(/^svcbgp_watcher_nodes 3$/m);
    expect(metrics).toMatch(/^svcbgp_watcher_connected_speakers 3$/m);
    expect(metrics).toMatch(/^svcbgp_watcher_event_to_intent_seconds_count [1-9]/m);
  });

  it("posts an Event on a Service whose externalIP is outside serviceExternalIPs, and on a rejected BGPPeer, and logs both", async () => {
    const routes = followers.map((f) => f.prefixes);
    const bad = server.create(service("bad", { externalIPs: ["192.168.9.9"], externalTrafficPolicy: "Local" }));
    server.create(endpointSlice("bad-1", "bad", ["node-1"]));
    const ipEvent = await waitFor(() => server.events.find((e) => e.reason === "IPNotAllowed"), 10_000, "an IPNotAllowed Event");
    expect(ipEvent).toMatchObject({
      type: "Warning",
      metadata: { namespace: "default" },
      involvedObject: { kind: "Service", name: "bad", namespace: "default", uid: bad.metadata.uid },
      source: { component: "svcbgp-watcher" },
    });
    expect(ipEvent.message).toBe("192.168.9.9 (spec.externalIPs[0]) is not advertised: not in serviceExternalIPs (192.168.3.0/24)");
    expect(followers.map((f) => f.prefixes)).toEqual(routes);

    server.create(bgpPeer("broken", { peerIP: "192.168.1.2", asNumber: "not-a-number" }));
    const configEvent = await waitFor(() => server.events.find((e) => e.reason === "InvalidConfiguration"), 10_000, "an InvalidConfiguration Event");
    expect(configEvent).toMatchObject({ type: "Warning", involvedObject: { kind: "BGPPeer", name: "broken", apiVersion: "svcbgp.io/v1" } });
    expect(configEvent.message).toMatch(/^BGPPeer\/broken spec\.asNumber: /);
    // The broken peer reaches no intent; the good one stays.
    for (const f of followers) expect(f.held?.peers.map((p) => p.name)).toEqual(["tor"]);

    await eventually(() => {
      expect(logs.lines).toContainEqual(
        expect.objectContaining({ level: "warn", resource: "Service/default/bad", field: "spec.externalIPs[0]", ip: "192.168.9.9", reason: "not in serviceExternalIPs (192.168.3.0/24)" }),
      );
      expect(logs.lines).toContainEqual(expect.objectContaining({ level: "warn", resource: "BGPPeer/broken", field: "spec.asNumber" }));
    });
    expect((await get("/metrics")).body).toMatch(/^svcbgp_watcher_config_issues 1$/m);
    // No password ever reaches a log line.
    for (const secretValue of [PASSWORD, "rotated-pw", "second-pw"]) {
      expect(logs.text()).not.toContain(secretValue);
      expect(logs.text()).not.toContain(Buffer.from(secretValue).toString("base64"));
    }
  });

  it("ends the streams cleanly on close, without telling speakers to withdraw", async () => {
    const marks = followers.map((f) => f.events.length);
    await watcher.close();
    await Promise.all(followers.map((f) => f.done));
    for (const [i, f] of followers.entries()) {
      expect(f.ended).toBe(true);
      expect(f.errors).toEqual([]);
      expect(f.events.length).toBe(marks[i]);
    }
  });
});
