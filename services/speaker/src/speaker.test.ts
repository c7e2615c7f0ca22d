/**
 * A whole speaker (intent file, fake sessions) over real ports: every
 * SpeakerService method, svcbgpctl peers/rib, /metrics, /livez, /readyz and
 * graceful shutdown.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { service as healthServiceDefinition } from "grpc-health-check";
import { toJson } from "@bufbuild/protobuf";
import { AddressFamily, RibTable, SessionState, SpeakerService, WatchEventsResponseSchema, createClient, type ServiceClient, type WatchEventsResponse } from "@svcbgp/api";
import { startSpeaker, type RunningSpeaker } from "./speaker.js";
import { fakeSessionFactory } from "./testing/fake-session.js";
import { FakeWatcher } from "./testing/fake-watcher.js";
import { quietLogger } from "./testing/fixtures.js";
import { runCli } from "../../ctl/src/cli.js";
import { eventually } from "../../../test/support/wait.js";

const intentYaml = (extraRoute = "") => `
nodeName: node-1
routerId: 192.0.2.10
localAsn: 64512
peers:
  - address: 192.0.2.1
    asn: 64512
    sourceAddress: 192.0.2.10
    gracefulRestart: { enabled: true }
    name: tor-a
  - address: 192.0.2.2
    asn: 65000
  - address: 2001:db8::1
    asn: 65000
  - address: 192.0.2.9
    asn: 65000
    password: hunter2
routes:
  - prefix: 10.49.0.0/16
    communities: ["64512:100"]
    reasons: [{ source: default, kind: ROUTE_KIND_CLUSTER_IP_RANGE }]
  - prefix: 10.49.62.131/32
    reasons: [{ source: default/nginx, kind: ROUTE_KIND_CLUSTER_IP }]
  - prefix: 192.168.3.0/24
  - prefix: fd00:49::/64
${extraRoute}`;

let dir: string;
let path: string;
let speaker: RunningSpeaker;
let client: ServiceClient<typeof SpeakerService>;
const fakes = fakeSessionFactory();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "speaker-api-"));
  path = join(dir, "intent.yaml");
  await writeFile(path, intentYaml());
  speaker = await startSpeaker(
    { nodeName: "node-1", intentFile: path, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
    // TCP-MD5 unavailable: the password peer (192.0.2.9) shows how a refused peer is reported.
    { sessionFactory: fakes.factory, logger: quietLogger(), file: { debounceMs: 20, pollMs: 50 }, routeBatchSize: 2, subscriberBuffer: 5, tcpMd5Unavailable: () => "no addon in this test" },
  );
  client = createClient(SpeakerService, speaker.api.address);
  fakes.live("192.0.2.1")!.setState("Established");
  fakes.live("192.0.2.1")!.receive({ prefix: "0.0.0.0/0", nextHop: "192.0.2.1", asPath: [], origin: "igp", localPref: 100, communities: [], largeCommunities: [], stale: false });
});

afterAll(async () => {
  client?.close();
  await speaker?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function listRoutes(request: Parameters<typeof client.listRoutes>[0]) {
  const batches: string[][] = [];
  for await (const batch of client.listRoutes(request)) batches.push(batch.routes.map((r) => `${r.peer ? r.peer + " " : ""}${r.prefix}`));
  return batches;
}

async function cli(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(["--speaker", speaker.api.address, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}

describe("SpeakerService", () => {
  it("ListPeers: state, since, errors, hold time, capabilities, counters, prefixes", async () => {
    const { peers } = await client.listPeers({});
    expect(peers.map((p) => `${p.address}:${p.port}`)).toEqual(["192.0.2.1:179", "192.0.2.2:179", "192.0.2.9:179", "2001:db8::1:179"]);
    const [tor, plain, refused] = peers;
    expect(tor).toMatchObject({ name: "tor-a", asn: 64512, localAsn: 64512, localAddress: "192.0.2.10", state: SessionState.ESTABLISHED, negotiatedHoldTime: 90, prefixesSent: 3, prefixesReceived: 1 });
    expect(tor.capabilities).toContain("4-octet-as");
    expect(tor.sent?.updates).toBe(0n);
    expect(Number(tor.stateSince?.seconds)).toBeGreaterThan(0);
    expect(plain.state).toBe(SessionState.IDLE);
    expect(refused).toMatchObject({ state: SessionState.IDLE, lastError: "TCP-MD5 unavailable: no addon in this test; a peer with a password is not connected" });
  });

  it("ListRoutes: the intent, in batches, filtered by prefix and family", async () => {
    expect(await listRoutes({})).toEqual([["10.49.0.0/16", "10.49.62.131/32"], ["192.168.3.0/24", "fd00:49::/64"]]);
    expect((await listRoutes({ table: RibTable.INTENT, prefix: "10.49.0.0/16" })).flat()).toEqual(["10.49.0.0/16", "10.49.62.131/32"]);
    expect((await listRoutes({ table: RibTable.INTENT, prefix: "10.49.62.131" })).flat()).toEqual(["10.49.62.131/32"]);
    expect((await listRoutes({ table: RibTable.INTENT, family: AddressFamily.IPV6 })).flat()).toEqual(["fd00:49::/64"]);
    const [first] = await (async () => {
      const out = [];
      for await (const b of client.listRoutes({ table: RibTable.INTENT, prefix: "10.49.0.0/16" })) out.push(...b.routes);
      return out;
    })();
    expect(first).toMatchObject({ table: RibTable.INTENT, communities: ["64512:100"], reasons: [{ source: "default" }] });
    await expect(listRoutes({ prefix: "10.49.0.1/16" })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("ListRoutes: adj-out and adj-in per peer", async () => {
    expect((await listRoutes({ table: RibTable.ADJ_OUT })).flat()).toEqual([
      "192.0.2.1 10.49.0.0/16",
      "192.0.2.1 10.49.62.131/32",
      "192.0.2.1 192.168.3.0/24",
      "192.0.2.2 10.49.0.0/16",
      "192.0.2.2 10.49.62.131/32",
      "192.0.2.2 192.168.3.0/24",
      "2001:db8::1 fd00:49::/64",
    ]);
    expect((await listRoutes({ table: RibTable.ADJ_OUT, peer: "192.0.2.2", prefix: "192.168.0.0/16" })).flat()).toEqual(["192.0.2.2 192.168.3.0/24"]);
    expect((await listRoutes({ table: RibTable.ADJ_IN })).flat()).toEqual(["192.0.2.1 0.0.0.0/0"]);
    await expect(listRoutes({ table: RibTable.ADJ_IN, peer: "192.0.2.77" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("WatchEvents: sessions have a route listener only while there is a subscriber", async () => {
    const session = fakes.live("192.0.2.1")!;
    await eventually(() => expect(speaker.controller.events.subscriberCount).toBe(0));
    expect(session.routeListenerCount).toBe(0);
    const controller = new AbortController();
    const events: WatchEventsResponse[] = [];
    const done = (async () => {
      for await (const e of client.watchEvents({}, { signal: controller.signal })) events.push(e);
    })().catch((err: unknown) => err);
    await eventually(() => expect(session.routeListenerCount).toBe(1));
    session.receive({ prefix: "198.51.100.0/24", nextHop: "192.0.2.1", asPath: [], origin: "igp", localPref: 100, communities: [], largeCommunities: [], stale: false });
    await eventually(() => expect(events.length).toBe(1));
    expect((toJson(WatchEventsResponseSchema, events[0]) as { route?: { route?: { table?: string; prefix?: string } } }).route?.route).toMatchObject({ table: "RIB_TABLE_ADJ_IN", prefix: "198.51.100.0/24" });
    controller.abort();
    await done;
    await eventually(() => expect(session.routeListenerCount).toBe(0));
    session.receive({ prefix: "198.51.100.0/24", nextHop: "192.0.2.1", asPath: [], origin: "igp", localPref: 100, communities: [], largeCommunities: [], stale: false }, true);
  });

  it("WatchEvents: streams peer state and route changes", async () => {
    const controller = new AbortController();
    const events: WatchEventsResponse[] = [];
    await eventually(() => expect(speaker.controller.events.subscriberCount).toBe(0));
    const done = (async () => {
      for await (const e of client.watchEvents({}, { signal: controller.signal })) events.push(e);
    })().catch((err: unknown) => err);
    await eventually(() => expect(speaker.controller.events.subscriberCount).toBe(1));
    fakes.live("192.0.2.2")!.setState("Connect");
    await writeFile(path, intentYaml("  - prefix: 10.51.0.0/16\n"));
    await eventually(() => expect(events.length).toBeGreaterThanOrEqual(2));
    controller.abort();
    await done;
    const json = events.map((e) => toJson(WatchEventsResponseSchema, e) as { peerState?: object; route?: object });
    expect(json[0].peerState).toEqual({ peer: "192.0.2.2", from: "SESSION_STATE_IDLE", to: "SESSION_STATE_CONNECT" });
    expect(json[1].route).toEqual({ route: { table: "RIB_TABLE_INTENT", prefix: "10.51.0.0/16" } });
  });

  it("WatchEvents: a subscriber that falls behind is dropped with RESOURCE_EXHAUSTED", async () => {
    await eventually(() => expect(speaker.controller.events.subscriberCount).toBe(0)); // the previous test's stream is gone
    const stream = client.watchEvents({}, { deadline: 20_000 });
    const iterator = stream[Symbol.asyncIterator]();
    await eventually(() => expect(speaker.controller.events.subscriberCount).toBe(1));
    for (let i = 0; i < 50; i++) fakes.live("192.0.2.2")!.setState(i % 2 ? "Active" : "Connect");
    await expect((async () => {
      for (;;) if ((await iterator.next()).done) return "ended";
    })()).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(speaker.controller.events.subscriberCount).toBe(0);
  });

  it("serves reflection and health", async () => {
    const Health = grpc.makeGenericClientConstructor(healthServiceDefinition, "grpc.health.v1.Health");
    const health = new Health(speaker.api.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(request: { service: string }, callback: (err: grpc.ServiceError | null, response: { status: string | number }) => void): void;
    };
    const status = await new Promise<string | number>((resolve, reject) =>
      health.check({ service: "svcbgp.v1.SpeakerService" }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
    expect(["SERVING", 1]).toContain(status);
    health.close();

    const require = createRequire(import.meta.url);
    const protoPath = require.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { keepCase: true, defaults: true, oneofs: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (target: string, creds: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(speaker.api.address, grpc.credentials.createInsecure()) as grpc.Client & {
      ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: Array<{ name: string }> } }>;
    };
    const listed = await new Promise<string[]>((resolve, reject) => {
      const call = reflection.ServerReflectionInfo();
      call.on("data", (r: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((r.list_services_response?.service ?? []).map((x) => x.name));
        call.end();
      });
      call.on("error", reject);
      call.write({ list_services: "*" });
    });
    expect(listed).toContain("svcbgp.v1.SpeakerService");
    reflection.close();
  });
});

describe("svcbgpctl against a running speaker", () => {
  it("peers: a table by default, proto3 JSON with -o json", async () => {
    const table = await cli("peers");
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/192\.0\.2\.1\b.*Established/);
    expect(table.stdout).toContain("192.0.2.9");
    const json = await cli("-o", "json", "peers");
    const peers = JSON.parse(json.stdout) as Array<{ address: string; lastError?: string }>;
    expect(peers.map((p) => p.address)).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.9", "2001:db8::1"]);
    expect(peers[2].lastError).toContain("TCP-MD5 unavailable");
    expect(json.stdout + table.stdout).not.toContain("hunter2");
  });

  it("rib: adj-out by default, --table intent, --peer and -o yaml", async () => {
    const adjOut = await cli("rib");
    expect(adjOut.status).toBe(0);
    expect(adjOut.stdout).toContain("10.49.62.131/32");
    const intent = await cli("-o", "json", "rib", "--table", "intent", "--family", "ipv6");
    expect((JSON.parse(intent.stdout) as Array<{ prefix: string }>).map((r) => r.prefix)).toEqual(["fd00:49::/64"]);
    const perPeer = await cli("-o", "yaml", "rib", "--table", "adj-in", "--peer", "192.0.2.1");
    expect(perPeer.stdout).toContain("prefix: 0.0.0.0/0");
  });
});

describe("operations endpoint", () => {
  const get = async (p: string) => {
    const res = await fetch(`http://127.0.0.1:${speaker.ops.port}${p}`);
    return { status: res.status, body: await res.text() };
  };

  it("serves metrics, liveness and readiness", async () => {
    const metrics = (await get("/metrics")).body;
    expect(metrics).toContain('svcbgp_speaker_peer_session_state{peer="192.0.2.1:179"} 6');
    expect(metrics).toContain('svcbgp_speaker_peer_session_state{peer="192.0.2.9:179"} 0');
    expect(metrics).toContain('svcbgp_speaker_peer_prefixes_sent{peer="192.0.2.1:179"} 4'); // 10.51.0.0/16 was added above
    expect(metrics).toMatch(/svcbgp_speaker_intent_revision [1-9]/);
    expect(metrics).toMatch(/svcbgp_speaker_intent_age_seconds \d/);
    expect(metrics).not.toMatch(/^svcbgp_speaker_watcher_link_up /m);
    expect(await get("/livez")).toEqual({ status: 200, body: "ok\n" });
    expect(await get("/readyz")).toEqual({ status: 200, body: "ok\n" });
  });
});

describe("watcher mode readiness and shutdown", () => {
  it("reports the watcher link in /readyz and stops GR sessions gracefully", async () => {
    const watcher = new FakeWatcher(FakeWatcher.intent({ nodeName: "node-2", routerId: "192.0.2.20", localAsn: 64512, peers: [{ address: "192.0.2.1", asn: 64512, gracefulRestart: { enabled: true } }, { address: "192.0.2.2", asn: 64512 }] }), 3n);
    const address = await watcher.start();
    const local = fakeSessionFactory();
    const s = await startSpeaker(
      { nodeName: "node-2", watcher: address, apiListen: "127.0.0.1:0", httpListen: "127.0.0.1:0" },
      { sessionFactory: local.factory, logger: quietLogger(), backoff: { initialMs: 20, maxMs: 100 } },
    );
    const ready = async () => (await fetch(`http://127.0.0.1:${s.ops.port}/readyz`)).text();
    try {
      await eventually(async () => expect(await ready()).toBe("ok\n"));
      expect(await (await fetch(`http://127.0.0.1:${s.ops.port}/metrics`)).text()).toContain("svcbgp_speaker_watcher_link_up 1");
      await watcher.stop();
      await eventually(async () => expect(await ready()).toMatch(/^watcher: stream to 127\.0\.0\.1:\d+ down since /));
      expect(await (await fetch(`http://127.0.0.1:${s.ops.port}/metrics`)).text()).toContain("svcbgp_speaker_watcher_link_up 0");
    } finally {
      await s.stop();
    }
    expect(local.sessions.map((x) => x.calls.at(-1))).toEqual([
      { op: "stop", mode: "graceful-restart", message: "speaker shutting down" },
      { op: "stop", mode: "admin-shutdown", message: "speaker shutting down" },
    ]);
  });
});
