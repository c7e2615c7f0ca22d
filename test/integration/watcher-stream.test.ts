/**
 * The WatchIntent stream end to end over a real gRPC port: snapshot, deltas,
 * reconnects, a consumer that stops reading, and the manifests source
 * (edits picked up, invalid YAML keeps the last good state).
 */
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { equals } from "@bufbuild/protobuf";
import { IntentService, NodeIntentSchema, createClient, type WatchIntentResponse } from "@svcbgp/api";
import { runCli } from "../../services/ctl/src/cli.js";
import { bgpConfig, node, seedNodes, seedPeer, service, slice } from "../../services/watcher/src/engine/fixtures.js";
import { MAX_PENDING_CHANGES } from "../../services/watcher/src/intents/intent-hub.js";
import type { ManifestsSource } from "../../services/watcher/src/sources/manifests.js";
import type { KubeObject } from "../../services/watcher/src/sources/source.js";
import { startWatcher, type Watcher, type WatcherDeps } from "../../services/watcher/src/watcher.js";
import { eventually, waitFor } from "../support/wait.js";
import { captureLogger, ManualSource, StreamFollower } from "./watcher-support.js";

const ROOT = new URL("../../", import.meta.url).pathname;

let cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function start(deps: WatcherDeps, dir = ""): Promise<Watcher> {
  const watcher = await startWatcher(
    { source: { kind: "manifests", dir }, listen: "127.0.0.1:0", httpListen: "127.0.0.1:0", namespace: "svcbgp-system" },
    { logger: captureLogger().logger, ...deps },
  );
  cleanups.push(() => watcher.close());
  return watcher;
}

function follow(watcher: Watcher, nodeName: string): StreamFollower {
  const f = new StreamFollower(watcher.address, nodeName);
  cleanups.push(() => f.close());
  return f;
}

/** The follower holds exactly what the engine computes for its node. */
async function inSync(watcher: Watcher, ...followers: StreamFollower[]): Promise<void> {
  await eventually(() => {
    for (const f of followers) {
      expect(f.errors).toEqual([]);
      expect(f.held).toEqual(watcher.engine.intent(f.nodeName));
    }
  });
}

const config = bgpConfig({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }, { cidr: "10.60.0.0/16" }] });
const seed = (): KubeObject[] => [...seedNodes(), seedPeer(), config];

/** A Service whose externalIP (traffic policy Local) node-1 advertises as a host route. */
function localOnNode1(i: number): KubeObject[] {
  return [
    slice(`s${i}-x`, `s${i}`, { endpoints: [{ node: "node-1", ready: true }] }),
    service(`s${i}`, { externalIPs: [`10.60.${Math.floor(i / 250)}.${(i % 250) + 1}`], externalTrafficPolicy: "Local" }),
  ];
}

describe("WatchIntent over gRPC", () => {
  it("streams a snapshot once synced, then deltas that keep each node's follower equal to the engine", async () => {
    const source = new ManualSource();
    const watcher = await start({ source });
    const followers = ["node-1", "node-2", "node-3"].map((n) => follow(watcher, n));
    await waitFor(async () => {
      const client = createClient(IntentService, watcher.address);
      try {
        await client.getIntent({ nodeName: "node-1" });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === grpc.status.UNAVAILABLE;
      } finally {
        client.close();
      }
    }, 10_000, "GetIntent answering UNAVAILABLE before the sync");
    expect(followers.map((f) => f.events.length)).toEqual([0, 0, 0]);

    source.sync(seed());
    await inSync(watcher, ...followers);
    for (const f of followers) {
      expect(f.events.map((e) => e.event.case)).toEqual(["snapshot"]);
      expect(f.prefixes).toEqual(["10.49.0.0/16", "10.60.0.0/16", "192.168.3.0/24"]);
    }

    for (const object of [service("web", { clusterIP: "10.49.0.10", externalIPs: ["192.168.3.50"], externalTrafficPolicy: "Local" }), slice("web-1", "web", { endpoints: [{ node: "node-2" }, { node: "node-3" }] })]) source.upsert(object);
    await inSync(watcher, ...followers);
    expect(followers[1].prefixes).toEqual(["10.49.0.0/16", "10.49.0.10/32", "10.60.0.0/16", "192.168.3.0/24", "192.168.3.50/32"]);
    expect(followers[0].events.length).toBe(1);

    source.upsert(slice("web-1", "web", { endpoints: [{ node: "node-3" }] }));
    await inSync(watcher, ...followers);
    expect(followers[1].withdrawals.map((w) => w.key).sort()).toEqual(["10.49.0.10/32", "192.168.3.50/32"]);
    expect(followers[2].withdrawals).toEqual([]);

    // A new peer for node-2 only, and a node-level change (the AS number) that comes as a snapshot.
    source.upsert({ ...seedPeer(), metadata: { name: "rr" }, spec: { peerIP: "192.168.1.2", asNumber: 64512, node: "node-2" } });
    await inSync(watcher, ...followers);
    expect(followers[1].held?.peers.map((p) => p.address)).toEqual(["192.168.1.1", "192.168.1.2"]);
    expect(followers[1].events.at(-1)?.event.case).toBe("delta");
    source.upsert(bgpConfig({ asNumber: 65010, serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] }));
    await inSync(watcher, ...followers);
    for (const f of followers) expect(f.events.at(-1)).toMatchObject({ event: { case: "snapshot", value: { localAsn: 65010 } } });
    for (const f of followers) expect(f.events.slice(1, -1).every((e) => e.event.case === "delta")).toBe(true);
  });

  it("gives a reconnecting client a snapshot equal to the engine's state", async () => {
    const source = new ManualSource();
    const watcher = await start({ source });
    source.sync(seed());
    const first = follow(watcher, "node-1");
    await inSync(watcher, first);
    await first.close();
    for (let i = 0; i < 5; i++) for (const object of localOnNode1(i)) source.upsert(object);
    source.delete(localOnNode1(2)[1]);
    source.upsert(node("node-1", { ip: "192.168.1.10", podCIDRs: ["10.48.1.0/24"] }));

    const again = follow(watcher, "node-1");
    await inSync(watcher, again);
    expect(again.events[0].event.case).toBe("snapshot");
    expect(again.events[0].event.value).toEqual(watcher.engine.intent("node-1"));
    expect(again.prefixes).toContain("10.60.0.5/32");
    expect(again.prefixes).not.toContain("10.60.0.3/32");
    const client = createClient(IntentService, watcher.address);
    const current = await client.getIntent({ nodeName: "node-1" });
    client.close();
    expect(current.revision).toBe(again.events[0].revision);
    expect(current.intent).toEqual(again.held);
  });

  it("sends a consumer that stops reading one fresh snapshot instead of buffering every change", async () => {
    const source = new ManualSource();
    const watcher = await start({ source });
    source.sync(seed());
    const client = createClient(IntentService, watcher.address);
    cleanups.push(() => client.close());
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const iterator = client.watchIntent({ nodeName: "node-1" }, { signal: controller.signal })[Symbol.asyncIterator]();
    const received: WatchIntentResponse[] = [(await iterator.next()).value as WatchIntentResponse];
    expect(received[0].event.case).toBe("snapshot");

    // Stop reading while the cluster keeps changing, letting the server write what it can in between.
    let changes = 0;
    let maxPending = 0;
    for (let i = 0; watcher.hub.overflows === 0 && i < 60_000; i++) {
      for (const object of localOnNode1(i)) source.upsert(object);
      changes++;
      maxPending = Math.max(maxPending, ...watcher.hub.stats().map((s) => s.pending));
      if (i % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(watcher.hub.overflows).toBe(1);
    expect(maxPending).toBeLessThanOrEqual(MAX_PENDING_CHANGES + 1);

    // Reading again: a snapshot arrives, and the client ends up with exactly the engine's intent.
    const follower = new StreamFollower(undefined, "node-1");
    for (const event of received) follower.take(event);
    const expected = watcher.engine.intent("node-1")!;
    while (!equals(NodeIntentSchema, follower.held!, expected)) {
      const next = await iterator.next();
      if (next.done) break;
      follower.take(next.value as WatchIntentResponse);
    }
    expect(follower.errors).toEqual([]);
    expect(follower.held).toEqual(expected);
    expect(follower.snapshots).toBe(2);
    expect(follower.events.length).toBeLessThan(changes);
    expect(follower.prefixes).toHaveLength(changes + 3);
    expect((await fetch(`http://127.0.0.1:${watcher.httpPort}/metrics`).then((r) => r.text()))).toMatch(/^svcbgp_watcher_stream_events_total\{event="snapshot",cause="overflow"\} 1$/m);
  });
});

describe("manifests mode", () => {
  it("picks up edits, and keeps the last good state while a file does not parse", async () => {
    const dir = await mkdtemp(join(tmpdir(), "svcbgp-watcher-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(join(ROOT, "examples/seed"), dir, { recursive: true });
    const watcher = await start({ manifests: { debounceMs: 20, pollIntervalMs: 100 } }, dir);
    await watcher.synced;
    const followers = ["node-1", "node-2", "node-3"].map((n) => follow(watcher, n));
    const routes = () => followers.map((f) => f.prefixes);
    await inSync(watcher, ...followers);
    expect(routes()).toEqual([["10.49.0.0/16"], ["10.49.0.0/16"], ["10.49.0.0/16"]]);

    // Step 4: externalTrafficPolicy Local.
    await writeFile(join(dir, "nginx.yaml"), await readFile(join(ROOT, "examples/seed-steps/step4-nginx.yaml")));
    await eventually(() => expect(routes()).toEqual([["10.49.0.0/16"], ["10.49.0.0/16", "10.49.62.131/32"], ["10.49.0.0/16", "10.49.62.131/32"]]));
    await inSync(watcher, ...followers);

    // A half-written file: logged, and nothing changes.
    const marks = followers.map((f) => f.events.length);
    await writeFile(join(dir, "bgpconfiguration.yaml"), "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nspec: {serviceClusterIPs: [\n");
    await waitFor(() => (watcher.source as ManifestsSource).errors().some((e) => e.file === "bgpconfiguration.yaml"), 10_000, "the parse error");
    expect(routes()).toEqual([["10.49.0.0/16"], ["10.49.0.0/16", "10.49.62.131/32"], ["10.49.0.0/16", "10.49.62.131/32"]]);
    expect(followers.map((f) => f.events.length)).toEqual(marks);
    expect(watcher.engine.intent("node-1")?.routes.map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);

    // Step 5, written whole: the cluster-IP routes go, the external range comes.
    await writeFile(join(dir, "bgpconfiguration.yaml"), await readFile(join(ROOT, "examples/seed-steps/step5-bgpconfiguration.yaml")));
    await eventually(() => expect(routes()).toEqual([["192.168.3.0/24"], ["192.168.3.0/24"], ["192.168.3.0/24"]]));
    await inSync(watcher, ...followers);
    expect((watcher.source as ManifestsSource).errors()).toEqual([]);

    // Step 6: the externalIP, from the nodes with an endpoint.
    await writeFile(join(dir, "nginx.yaml"), await readFile(join(ROOT, "examples/seed-steps/step6-nginx.yaml")));
    await eventually(() => expect(routes()).toEqual([["192.168.3.0/24"], ["192.168.3.0/24", "192.168.3.180/32"], ["192.168.3.0/24", "192.168.3.180/32"]]));
    for (const f of followers) expect(f.errors).toEqual([]);

    // What svcbgpctl prints for it: proto3 JSON Routes sorted by prefix.
    let stdout = "";
    expect(await runCli(["--watcher", watcher.address, "routes", "--node", "node-3", "-o", "json"], { stdout: (t) => (stdout += t), stderr: () => undefined })).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      { prefix: "192.168.3.0/24", reasons: [{ source: "default", kind: "ROUTE_KIND_EXTERNAL_IP_RANGE" }] },
      { prefix: "192.168.3.180/32", reasons: [{ source: "default/nginx", kind: "ROUTE_KIND_EXTERNAL_IP" }] },
    ]);
  });
});

describe("mTLS", () => {
  it("with --tls-ca, serves only clients that present a certificate the CA signed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "svcbgp-watcher-tls-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=svcbgp-test-ca");
    await writeFile(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\n");
    for (const name of ["server", "client"]) {
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", ...(name === "server" ? ["-extfile", "server.ext"] : []));
    }
    const source = new ManualSource();
    const watcher = await startWatcher(
      { source: { kind: "manifests", dir: "" }, listen: "127.0.0.1:0", httpListen: "127.0.0.1:0", namespace: "svcbgp-system", tls: { cert: join(dir, "server.crt"), key: join(dir, "server.key"), ca: join(dir, "ca.crt") } },
      { source, logger: captureLogger().logger },
    );
    cleanups.push(() => watcher.close());
    source.sync(seed());
    const run = async (...tls: string[]) => {
      let stdout = "";
      let stderr = "";
      const code = await runCli(["--watcher", watcher.address, ...tls, "routes", "--node", "node-1", "-o", "json"], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    };
    const withCert = await run("--tls-ca", join(dir, "ca.crt"), "--tls-cert", join(dir, "client.crt"), "--tls-key", join(dir, "client.key"));
    expect(withCert.code).toBe(0);
    expect(JSON.parse(withCert.stdout).map((r: { prefix: string }) => r.prefix)).toEqual(["10.49.0.0/16", "10.60.0.0/16", "192.168.3.0/24"]);
    const withoutCert = await run("--tls-ca", join(dir, "ca.crt"));
    expect(withoutCert.code).toBe(1);
    expect(withoutCert.stderr).toMatch(/cannot reach the watcher/);
    const plaintext = await run();
    expect(plaintext.code).toBe(1);
  });
});
