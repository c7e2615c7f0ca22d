/**
 * The Kubernetes source through client-node's real informers against the
 * in-process API server: the happy path, then every way a watch goes wrong
 * (410 Gone, dropped and stalled watches, server restarts, error responses),
 * always checking that the sink ends up with the server's state and never
 * saw a delete for an object that still exists (a spurious route withdrawal).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SourceLogger } from "../../services/watcher/src/sources/logger.js";
import { backoffDelay, type Clock, KubernetesSource, type KubernetesSourceOptions } from "../../services/watcher/src/sources/kubernetes.js";
import { objectKey, type KubeObject, type ResourceEvent, type ResourceKind, type ResourceSink } from "../../services/watcher/src/sources/source.js";
import { KubeApiServer, type ApiObject, type KubeApiServerOptions } from "../support/kube-api-server.js";
import { sleep, waitFor } from "../support/wait.js";

const TIMEOUT = 15_000;

type SinkCall = { op: "apply"; event: ResourceEvent } | { op: "replace"; kind: ResourceKind; keys: string[] };

/** Keeps the state a sink would, and a log of every call and every removal it implied. */
class RecordingSink implements ResourceSink {
  readonly state = new Map<ResourceKind, Map<string, KubeObject>>();
  readonly calls: SinkCall[] = [];
  /** Every object the sink dropped, by apply(delete) or by absence from a replace: "Kind key". */
  readonly removals: string[] = [];

  apply(event: ResourceEvent): void {
    this.calls.push({ op: "apply", event });
    const bucket = this.bucket(event.kind);
    const key = objectKey(event.object);
    if (event.type === "upsert") {
      bucket.set(key, event.object);
    } else {
      bucket.delete(key);
      this.removals.push(`${event.kind} ${key}`);
    }
  }

  replace(kind: ResourceKind, objects: KubeObject[]): void {
    this.calls.push({ op: "replace", kind, keys: objects.map(objectKey) });
    const bucket = this.bucket(kind);
    const next = new Map(objects.map((o) => [objectKey(o), o]));
    for (const key of bucket.keys()) if (!next.has(key)) this.removals.push(`${kind} ${key}`);
    this.state.set(kind, next);
  }

  bucket(kind: ResourceKind): Map<string, KubeObject> {
    let bucket = this.state.get(kind);
    if (!bucket) this.state.set(kind, (bucket = new Map()));
    return bucket;
  }

  keys(kind: ResourceKind): string[] {
    return [...this.bucket(kind).keys()].sort();
  }

  get(kind: ResourceKind, key: string): KubeObject | undefined {
    return this.bucket(kind).get(key);
  }
}

// ---- object builders --------------------------------------------------------

function service(name: string, clusterIP: string, extra: Record<string, unknown> = {}, namespace = "default"): ApiObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { type: "ClusterIP", clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80 }], ...extra },
  };
}

function endpointSlice(name: string, service: string, addresses: string[], node: string): ApiObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName: node })),
    ports: [{ port: 80 }],
  };
}

function node(name: string, ip: string): ApiObject {
  return { apiVersion: "v1", kind: "Node", metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } };
}

function bgpConfiguration(clusterCidrs: string[]): ApiObject {
  return {
    apiVersion: "svcbgp.io/v1",
    kind: "BGPConfiguration",
    metadata: { name: "default" },
    spec: { serviceClusterIPs: clusterCidrs.map((cidr) => ({ cidr })) },
  };
}

function bgpPeer(name: string, peerIP: string, secret?: string): ApiObject {
  return {
    apiVersion: "svcbgp.io/v1",
    kind: "BGPPeer",
    metadata: { name },
    spec: { peerIP, asNumber: 64512, ...(secret ? { password: { secretKeyRef: { name: secret, key: "password" } } } : {}) },
  };
}

function secret(name: string, namespace = "kube-system"): ApiObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", data: { password: Buffer.from(`pw-${name}`).toString("base64") } };
}

// ---- harness ----------------------------------------------------------------

let cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function setup(
  serverOptions: KubeApiServerOptions = {},
  sourceOptions: Partial<KubernetesSourceOptions> = {},
  seed: ApiObject[] = [],
): Promise<{ server: KubeApiServer; source: KubernetesSource; sink: RecordingSink }> {
  const server = await KubeApiServer.start(serverOptions);
  cleanups.push(() => server.close());
  for (const object of seed) server.create(object);
  const source = new KubernetesSource({
    kubeConfig: server.kubeConfig(),
    secretNamespace: "kube-system",
    backoff: { initialMs: 20, maxMs: 200 },
    minWatchIntervalMs: 10,
    staleAfterMs: 0,
    ...sourceOptions,
  });
  cleanups.push(() => source.stop());
  const sink = new RecordingSink();
  await source.start(sink);
  await waitFor(() => source.synced, TIMEOUT, "initial sync");
  return { server, source, sink };
}

/** The sink holds exactly the server's objects of `kind` (by key and resourceVersion). */
function converged(server: KubeApiServer, sink: RecordingSink, apiVersion: string, kind: ResourceKind): boolean {
  const want = server.list(apiVersion, kind);
  const have = sink.bucket(kind);
  return (
    want.length === have.size &&
    want.every((o) => have.get(objectKey(o as KubeObject))?.metadata.resourceVersion === o.metadata.resourceVersion)
  );
}

const seedObjects = (): ApiObject[] => [
  service("web", "10.49.62.131"),
  service("api", "10.49.0.20"),
  service("db", "10.49.0.30"),
  endpointSlice("web-abc", "web", ["10.48.1.5"], "node-1"),
  node("node-1", "192.168.1.10"),
  node("node-2", "192.168.1.11"),
  bgpConfiguration(["10.49.0.0/16"]),
  bgpPeer("tor", "192.168.1.1"),
];

function expectAllConverged(server: KubeApiServer, sink: RecordingSink): boolean {
  return (
    converged(server, sink, "v1", "Service") &&
    converged(server, sink, "discovery.k8s.io/v1", "EndpointSlice") &&
    converged(server, sink, "v1", "Node") &&
    converged(server, sink, "svcbgp.io/v1", "BGPConfiguration") &&
    converged(server, sink, "svcbgp.io/v1", "BGPPeer")
  );
}

const listsOf = (server: KubeApiServer, path: string): number => server.requestsTo(path, false).length;

// ---- tests ------------------------------------------------------------------

describe("KubernetesSource", () => {
  it("lists every kind, then delivers adds, updates and deletes", async () => {
    const { server, source, sink } = await setup({}, {}, seedObjects());
    expect(expectAllConverged(server, sink)).toBe(true);
    // The first delivery of each kind is a replace with the full list.
    const replaced = sink.calls.filter((c) => c.op === "replace").map((c) => (c as { kind: ResourceKind }).kind);
    expect(new Set(replaced)).toEqual(new Set(["Service", "EndpointSlice", "Node", "BGPConfiguration", "BGPPeer", "Secret"]));
    // List items of built-in types arrive without apiVersion/kind; the source fills them in.
    expect(sink.get("Service", "default/web")).toMatchObject({ apiVersion: "v1", kind: "Service" });
    expect(sink.get("EndpointSlice", "default/web-abc")).toMatchObject({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" });
    expect(sink.get("BGPPeer", "tor")).toMatchObject({ apiVersion: "svcbgp.io/v1", spec: { peerIP: "192.168.1.1" } });

    const callsBefore = sink.calls.length;
    server.create(service("new", "10.49.0.40"));
    server.update({ ...service("web", "10.49.62.131"), spec: { ...service("web", "10.49.62.131").spec as object, externalTrafficPolicy: "Local" } });
    server.create(node("node-3", "192.168.1.12"));
    server.update(bgpConfiguration([]));
    server.delete(service("db", ""));
    server.delete(endpointSlice("web-abc", "web", [], ""));
    await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "watch events to reach the sink");
    expect(sink.get("Service", "default/web")?.spec).toMatchObject({ externalTrafficPolicy: "Local" });
    expect(sink.keys("Service")).toEqual(["default/api", "default/new", "default/web"]);

    // They came as individual events, not re-lists.
    const later = sink.calls.slice(callsBefore);
    expect(later.every((c) => c.op === "apply")).toBe(true);
    // Each kind has its own watch, so the two deletes may arrive in either order.
    expect([...sink.removals].sort()).toEqual(["EndpointSlice default/web-abc", "Service default/db"]);
    const status = source.status();
    expect(status.Service).toMatchObject({ synced: true, objects: 3, lists: 1, restarts: 0 });
    expect(status.Service.lastListTime).toBeInstanceOf(Date);
    expect(status.Node.lastEventTime).toBeInstanceOf(Date);
  });

  describe.each([
    ["an ERROR event with a 410 Status (what kube-apiserver does)", "event" as const],
    ["an HTTP 410 response", "status" as const],
  ])("410 Gone as %s", (_label, gone) => {
    it("re-lists and replaces without deleting objects that are still there", async () => {
      const { server, source, sink } = await setup({ gone }, {}, seedObjects());
      const servicesBefore = listsOf(server, "/api/v1/services");

      // Changes the client cannot see through its watch, then history it cannot resume from.
      server.stallWatches();
      const callsBefore = sink.calls.length;
      server.update({ ...service("web", "10.49.62.131"), metadata: { name: "web", namespace: "default", labels: { v: "2" } } });
      server.delete(service("db", ""));
      server.create(service("cache", "10.49.0.50"));
      server.create(node("node-3", "192.168.1.12"));
      server.expireHistory();
      server.clearRequests();
      // Graceful close: client-node re-watches from its last resourceVersion and is told it is gone.
      server.dropWatches({ graceful: true });

      await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "convergence after 410");
      expect(sink.get("Service", "default/web")?.metadata.labels).toEqual({ v: "2" });
      // The only removal is the object really deleted.
      expect(sink.removals).toEqual(["Service default/db"]);
      expect(sink.calls.some((c) => c.op === "apply" && c.event.type === "delete")).toBe(false);
      // Only replaces: the informer's own per-item callbacks for the re-list were not passed on as well.
      expect(sink.calls.slice(callsBefore).every((c) => c.op === "replace")).toBe(true);
      // Re-listed (not restarted through the error path), and the client saw 410 the way the server sent it.
      expect(listsOf(server, "/api/v1/services")).toBeGreaterThan(0);
      expect(source.status().Service.lists).toBeGreaterThan(1);
      expect(source.status().Service.restarts).toBe(0);
      expect(servicesBefore).toBe(1);
      const watches = server.requestsTo("/api/v1/services", true);
      if (gone === "status") expect(watches.some((r) => r.status === 410)).toBe(true);
      else expect(watches.every((r) => r.status === 200)).toBe(true);
      // The re-list's replace carried the objects that stayed.
      const lastReplace = sink.calls.filter((c) => c.op === "replace" && c.kind === "Service").at(-1) as { keys: string[] };
      expect(lastReplace.keys.sort()).toEqual(["default/api", "default/cache", "default/web"]);

      // Watching resumes normally afterwards.
      server.create(service("after", "10.49.0.60"));
      await waitFor(() => sink.get("Service", "default/after"), TIMEOUT, "event after re-list");
    });
  });

  describe.each([
    ["abruptly (socket destroyed)", false],
    ["gracefully (watch timeout)", true],
  ])("a watch dropped %s", (_label, graceful) => {
    it("reconnects from its resourceVersion and misses nothing", async () => {
      const { server, source, sink } = await setup({}, {}, seedObjects());
      await waitFor(() => server.openWatches() === 5, TIMEOUT, "watches open");
      expect(server.dropWatches({ graceful })).toBe(5);
      // Changes made while nothing watches.
      server.create(service("during", "10.49.0.70"));
      server.delete(service("api", ""));
      server.update(node("node-2", "192.168.1.111"));
      await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "convergence after drop");
      await waitFor(() => server.openWatches() === 5, TIMEOUT, "watches to reopen");
      expect(sink.removals).toEqual(["Service default/api"]);
      // Resumed from the last resourceVersion: replayed history, no re-list.
      expect(listsOf(server, "/api/v1/services")).toBe(1);
      expect(source.status().Service.lists).toBe(1);
      const rewatch = server.requestsTo("/api/v1/services", true).at(-1)!;
      expect(Number(rewatch.query.resourceVersion)).toBeGreaterThan(0);
      expect(rewatch.query.allowWatchBookmarks).toBe("true");
      if (!graceful) expect(source.status().Service.restarts).toBeGreaterThan(0);
    });
  });

  it("recovers from a server restart that keeps history, by resuming", async () => {
    const { server, source, sink } = await setup({}, {}, seedObjects());
    await server.restart({
      keepHistory: true,
      whileDown: async () => {
        // Let the source notice the outage and retry into it.
        await sleep(300);
        server.create(service("down", "10.49.0.80"));
        server.delete(node("node-1", ""));
      },
    });
    await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "convergence after restart");
    expect(sink.removals).toEqual(["Node node-1"]);
    expect(source.status().Service.restarts).toBeGreaterThan(0);
    expect(source.status().Service.lastError).toBeTruthy();
    expect(listsOf(server, "/api/v1/services")).toBe(1);
    server.create(service("up", "10.49.0.81"));
    await waitFor(() => sink.get("Service", "default/up"), TIMEOUT, "events after restart");
  });

  it("recovers from a server restart that loses history, by re-listing", async () => {
    const { server, source, sink } = await setup({}, {}, seedObjects());
    await server.restart({
      keepHistory: false,
      whileDown: () => {
        server.create(service("down", "10.49.0.80"));
        server.delete(service("web", ""));
        server.update(bgpPeer("tor", "192.168.1.2"));
      },
    });
    await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "convergence after restart");
    expect(sink.removals).toEqual(["Service default/web"]);
    expect(listsOf(server, "/api/v1/services")).toBe(2);
    expect(source.status().Service.lists).toBe(2);
    expect(sink.get("BGPPeer", "tor")?.spec).toMatchObject({ peerIP: "192.168.1.2" });
  });

  it("restarts after error responses, with backoff, until the kind syncs", async () => {
    const server = await KubeApiServer.start();
    cleanups.push(() => server.close());
    server.create(node("node-1", "192.168.1.10"));
    server.failNext({ path: "/api/v1/nodes", watch: false, status: 500, times: 3 });
    server.failNext({ path: "/api/v1/services", watch: true, status: 503, times: 2 });
    const source = new KubernetesSource({
      kubeConfig: server.kubeConfig(),
      backoff: { initialMs: 20, maxMs: 100 },
      minWatchIntervalMs: 10,
      staleAfterMs: 0,
    });
    cleanups.push(() => source.stop());
    const sink = new RecordingSink();
    await source.start(sink);
    expect(source.synced).toBe(false);
    await source.whenSynced();
    await waitFor(() => server.openWatches() === 5, TIMEOUT, "all watches open");
    const status = source.status();
    expect(status.Node.restarts).toBe(3);
    expect(status.Node.lastError).toMatch(/500/);
    expect(status.Service.restarts).toBe(2);
    expect(status.Service.lastError).toMatch(/Service Unavailable|503/);
    expect(sink.keys("Node")).toEqual(["node-1"]);
    server.create(service("x", "10.49.0.1"));
    await waitFor(() => sink.get("Service", "default/x"), TIMEOUT, "events after recovering");
    expect(sink.removals).toEqual([]);
  });

  it("backs off exponentially, with one restart pending at a time", async () => {
    const server = await KubeApiServer.start();
    cleanups.push(() => server.close());
    server.create(node("node-1", "192.168.1.10"));
    server.failNext({ path: "/api/v1/nodes", watch: false, status: 500, times: 5 });
    // A clock whose timers only fire when the test says so.
    let now = 1_000_000;
    const timers: Array<{ fn: () => void; ms: number; id: number }> = [];
    let nextId = 1;
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const id = nextId++;
        timers.push({ fn, ms, id });
        return id;
      },
      clearTimeout: (id) => {
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const source = new KubernetesSource({
      kubeConfig: server.kubeConfig(),
      kinds: ["Node"],
      backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0.5 },
      random: () => 0,
      clock,
      minWatchIntervalMs: 0,
      staleAfterMs: 0,
    });
    cleanups.push(() => source.stop());
    const sink = new RecordingSink();
    await source.start(sink);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await waitFor(() => timers.length > 0, TIMEOUT, `restart ${attempt} to be scheduled`);
      // Let any further error callbacks run: they must not schedule a second restart.
      await sleep(20);
      expect(timers).toHaveLength(1);
      const timer = timers.shift()!;
      delays.push(timer.ms);
      now += timer.ms;
      timer.fn();
    }
    await waitFor(() => source.synced, TIMEOUT, "sync after the failures run out");
    expect(delays).toEqual([20, 40, 80, 100, 100]);
    expect(source.status().Node).toMatchObject({ restarts: 5, lists: 1, objects: 1 });
    expect(listsOf(server, "/api/v1/nodes")).toBe(6);
    expect(timers).toHaveLength(0);
  });

  it("the watchdog restarts a watch that went silent", async () => {
    const { server, source, sink } = await setup({}, { staleAfterMs: 500, watchdogIntervalMs: 50 }, seedObjects());
    // Synced means listed, not watching: a watch opened after stallWatches() would not be stalled and would deliver the changes itself.
    await waitFor(() => server.openWatches() === 5, TIMEOUT, "watches open");
    // Every watch is now a half-open connection: nothing arrives, nothing errors.
    expect(server.stallWatches()).toBe(5);
    server.create(service("hidden", "10.49.0.90"));
    server.delete(service("api", ""));
    await waitFor(() => expectAllConverged(server, sink), TIMEOUT, "the watchdog to recover the stalled watch");
    expect(source.status().Service.restarts).toBeGreaterThan(0);
    expect(source.status().Service.lastError).toMatch(/no event or bookmark/);
    expect(sink.removals).toEqual(["Service default/api"]);
    // The replaced informer's stalled connection was closed, not leaked.
    await waitFor(() => server.openWatches() === 5, TIMEOUT, "stale watches closed, new ones open");
  });

  it("bookmarks keep a quiet watch alive", async () => {
    const { server, source } = await setup({ bookmarkIntervalMs: 50 }, { staleAfterMs: 1000, watchdogIntervalMs: 50, kinds: ["Node"] }, [node("n", "192.168.1.10")]);
    // Without bookmarks the watchdog would restart the quiet Node watch within about a second.
    await sleep(2500);
    expect(source.status().Node.restarts).toBe(0);
    expect(source.status().Node.lastEventTime).toBeInstanceOf(Date);
    expect(listsOf(server, "/api/v1/nodes")).toBe(1);
  });

  it("follows only the Secrets peers reference, by field selector", async () => {
    const { server, source, sink } = await setup({}, {}, [
      bgpPeer("tor", "192.168.1.1", "s1"),
      secret("s1"),
      secret("s2"),
      secret("s3"),
      secret("s1", "other"),
    ]);
    expect(sink.keys("Secret")).toEqual([]);
    source.watchSecrets(["s1", "s2", "Not_A,valid=name"]);
    expect(source.synced).toBe(false);
    await waitFor(() => source.synced && sink.keys("Secret").length === 2, TIMEOUT, "referenced secrets");
    expect(sink.keys("Secret")).toEqual(["kube-system/s1", "kube-system/s2"]);
    expect(source.status().Secret).toMatchObject({ informers: 2, objects: 2, synced: true });
    expect(source.secretNames.sort()).toEqual(["s1", "s2"]);

    server.update({ ...secret("s3"), data: { password: "eA==" } });
    server.update({ ...secret("s1"), data: { password: "eQ==" } });
    await waitFor(() => (sink.get("Secret", "kube-system/s1")?.data as Record<string, string>).password === "eQ==", TIMEOUT, "secret update");

    source.watchSecrets(["s2", "s3"]);
    await waitFor(() => sink.keys("Secret").join() === "kube-system/s2,kube-system/s3", TIMEOUT, "re-targeted secrets");
    server.delete(secret("s2"));
    await waitFor(() => sink.keys("Secret").join() === "kube-system/s3", TIMEOUT, "secret deletion");

    // Never a request for all Secrets, nor for any outside the namespace; each names one Secret.
    const secretRequests = server.requestsTo(/secrets/);
    expect(secretRequests.length).toBeGreaterThan(0);
    for (const r of secretRequests) {
      expect(r.path).toBe("/api/v1/namespaces/kube-system/secrets");
      expect(r.query.fieldSelector).toMatch(/^metadata\.name=s[123]$/);
    }
    // Not following s1 any more: its watch is closed.
    await waitFor(() => server.openWatches("/api/v1/namespaces/kube-system/secrets") === 2, TIMEOUT, "s1 watch closed");
    expect(sink.removals.sort()).toEqual(["Secret kube-system/s1", "Secret kube-system/s2"]);
  });

  it("pages through large lists", async () => {
    const many = Array.from({ length: 7 }, (_, i) => service(`s${i}`, `10.49.1.${i}`));
    const { server, sink } = await setup({}, { pageSize: 3, kinds: ["Service"] }, many);
    expect(sink.keys("Service")).toHaveLength(7);
    const lists = server.requestsTo("/api/v1/services", false);
    expect(lists).toHaveLength(3);
    expect(lists[1].query.continue).toBeTruthy();
  });

  it("posts Events about objects, once per identical message", async () => {
    const { server, source, sink } = await setup({}, { kinds: ["Service"] }, [service("web", "10.49.62.131", { externalIPs: ["203.0.113.9"] })]);
    const web = sink.get("Service", "default/web")!;
    expect(await source.postEvent(web, "ExternalIPRejected", "203.0.113.9 is not in serviceExternalIPs", "Warning")).toBe(true);
    expect(await source.postEvent(web, "ExternalIPRejected", "203.0.113.9 is not in serviceExternalIPs", "Warning")).toBe(false);
    expect(await source.postEvent({ apiVersion: "svcbgp.io/v1", kind: "BGPConfiguration", metadata: { name: "default" } }, "InvalidConfig", "bad cidr", "Warning")).toBe(true);
    const events = server.events;
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      metadata: { namespace: "default" },
      involvedObject: { apiVersion: "v1", kind: "Service", name: "web", namespace: "default", uid: web.metadata.uid },
      reason: "ExternalIPRejected",
      message: "203.0.113.9 is not in serviceExternalIPs",
      type: "Warning",
      source: { component: "svcbgp-watcher" },
      count: 1,
    });
    expect(events[1]).toMatchObject({ metadata: { namespace: "default" }, involvedObject: { kind: "BGPConfiguration", name: "default" } });
    expect(server.requestsTo("/api/v1/namespaces/default/events").every((r) => r.method === "POST" && r.status === 201)).toBe(true);
  });

  it("stop() closes every watch and delivers nothing afterwards", async () => {
    const lines: string[] = [];
    const record = (level: string) => (obj: unknown, msg?: string) => void lines.push(`${level} ${msg ?? obj}`);
    const logger: SourceLogger = { debug: () => undefined, info: record("info"), warn: record("warn"), error: record("error") };
    const { server, source, sink } = await setup({ token: "sekret" }, { logger }, seedObjects());
    // The kubeconfig's credentials were used.
    expect(server.requests.every((r) => r.authorization === "Bearer sekret")).toBe(true);
    source.watchSecrets(["s1"]);
    await waitFor(() => server.openWatches() === 6, TIMEOUT, "watches open");
    await source.stop();
    expect(source.synced).toBe(false);
    await waitFor(() => server.openWatches() === 0, TIMEOUT, "watches closed");
    const calls = sink.calls.length;
    server.create(service("late", "10.49.0.99"));
    server.dropWatches();
    await sleep(200);
    expect(sink.calls.length).toBe(calls);
    expect(server.openWatches()).toBe(0);
    // No AbortError surfaced as an error, and nothing tried to restart.
    expect(lines).toEqual([]);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with jitter only shortening it", () => {
    const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(2, opts, () => 1)).toBe(200);
    expect(backoffDelay(2, opts, () => 0.5)).toBe(300);
    expect(backoffDelay(2, { ...opts, jitter: 0 }, () => 0.9)).toBe(400);
  });
});
