import { mkdir, mkdtemp, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../../test/support/wait.js";
import type { SourceLogger } from "./logger.js";
import { ManifestParseError, ManifestsSource, parseManifestText, resourceKindOf } from "./manifests.js";
import { objectKey, type KubeObject, type ResourceEvent, type ResourceKind, type ResourceSink } from "./source.js";

class Sink implements ResourceSink {
  readonly state = new Map<ResourceKind, KubeObject[]>();
  readonly replaces: Array<{ kind: ResourceKind; keys: string[] }> = [];
  readonly events: Array<{ type: ResourceEvent["type"]; kind: ResourceKind; key: string }> = [];
  apply(event: ResourceEvent): void {
    const key = objectKey(event.object);
    this.events.push({ type: event.type, kind: event.kind, key });
    const objects = (this.state.get(event.kind) ?? []).filter((o) => objectKey(o) !== key);
    if (event.type === "upsert") objects.push(event.object);
    this.state.set(event.kind, objects);
  }
  replace(kind: ResourceKind, objects: KubeObject[]): void {
    this.replaces.push({ kind, keys: objects.map(objectKey) });
    this.state.set(kind, objects);
  }
  get deliveries(): number {
    return this.replaces.length + this.events.length;
  }
  keys(kind: ResourceKind): string[] {
    return (this.state.get(kind) ?? []).map(objectKey).sort();
  }
  get(kind: ResourceKind, key: string): KubeObject | undefined {
    return this.state.get(kind)?.find((o) => objectKey(o) === key);
  }
}

function recordingLogger(): SourceLogger & { lines: Array<{ level: string; obj: unknown; msg?: string }> } {
  const lines: Array<{ level: string; obj: unknown; msg?: string }> = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

// The seed's manifests, as the user writes them (Calico apiVersion), plus an object the watcher ignores.
const SEED = `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 192.168.1.1
  asNumber: 64512
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
    - cidr: 10.49.0.0/16
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
spec:
  replicas: 2
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  clusterIP: 10.49.62.131
  ports: [{ port: 80 }]
---
`;

const NODES_JSON = JSON.stringify({
  apiVersion: "v1",
  kind: "List",
  items: ["192.168.1.10", "192.168.1.11", "192.168.1.12"].map((ip, i) => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: `node-${i + 1}` },
    status: { addresses: [{ type: "InternalIP", address: ip }] },
  })),
});

const SLICE = `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: nginx-1
  namespace: default
addressType: IPv4
endpoints:
  - addresses: [10.48.1.5]
    conditions: { ready: true }
    nodeName: node-1
`;

function service(name: string, clusterIP: string, port = 80): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  clusterIP: ${clusterIP}\n  ports: [{ port: ${port} }]\n`;
}

function node(name: string): string {
  return `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${name}\n`;
}

/** Writes as editors and kubectl do (a temporary file renamed over the target), so no read sees a half-written file. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

let dir: string;
let source: ManifestsSource | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "svcbgp-manifests-"));
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function startSource(options: Partial<ConstructorParameters<typeof ManifestsSource>[0]> = {}) {
  const sink = new Sink();
  const logger = recordingLogger();
  source = new ManifestsSource({ dir, logger, debounceMs: 20, pollIntervalMs: 0, ...options });
  await source.start(sink);
  return { sink, logger, source };
}

describe("ManifestsSource", () => {
  it("reads every manifest under the directory and replaces each kind", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    await writeFile(path.join(dir, "nodes.json"), NODES_JSON);
    await mkdir(path.join(dir, "apps", "nginx"), { recursive: true });
    await writeFile(path.join(dir, "apps", "nginx", "slice.yml"), SLICE);
    await writeFile(path.join(dir, "notes.txt"), "kind: Service\n");
    await writeFile(path.join(dir, ".seed.yaml.swp"), "garbage: [");
    const { sink, logger, source } = await startSource();

    expect(source.synced).toBe(true);
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);
    expect(sink.get("BGPPeer", "tor")).toMatchObject({ apiVersion: "projectcalico.org/v3", spec: { peerIP: "192.168.1.1", asNumber: 64512 } });
    expect(sink.keys("BGPConfiguration")).toEqual(["default"]);
    // Namespaced kinds default to the "default" namespace, as kubectl apply does.
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
    expect(sink.keys("Node")).toEqual(["node-1", "node-2", "node-3"]);
    expect(sink.keys("EndpointSlice")).toEqual(["default/nginx-1"]);
    // Every kind is delivered, empty ones too, so the model knows they are complete.
    expect(sink.keys("Secret")).toEqual([]);
    expect(new Set(sink.replaces.map((r) => r.kind))).toEqual(new Set(["Service", "EndpointSlice", "Node", "Secret", "BGPConfiguration", "BGPPeer"]));
    const ignored = logger.lines.filter((l) => l.level === "warn").map((l) => l.msg);
    expect(ignored).toEqual([expect.stringMatching(/^seed\.yaml:\d+: ignoring apps\/v1 Deployment nginx/)]);
    expect(source.errors()).toEqual([]);
  });

  it("picks up edits, new files in new directories and deletions", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    const { sink } = await startSource();
    expect(sink.keys("Service")).toEqual(["default/nginx"]);

    // Step 5 of the seed: switch the config to external IPs.
    await writeFile(
      path.join(dir, "seed.yaml"),
      SEED.replace("serviceClusterIPs:\n    - cidr: 10.49.0.0/16", "serviceClusterIPs: []\n  serviceExternalIPs:\n    - cidr: 192.168.3.0/24"),
    );
    await waitFor(() => (sink.get("BGPConfiguration", "default")?.spec as { serviceExternalIPs?: unknown })?.serviceExternalIPs, 10_000, "edit");
    expect(sink.get("BGPConfiguration", "default")?.spec).toEqual({ serviceClusterIPs: [], serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] });

    await mkdir(path.join(dir, "later", "deeper"), { recursive: true });
    await writeFile(path.join(dir, "later", "deeper", "slice.yaml"), SLICE);
    await waitFor(() => sink.keys("EndpointSlice").length === 1, 10_000, "file in a new subdirectory");

    await unlink(path.join(dir, "later", "deeper", "slice.yaml"));
    await waitFor(() => sink.keys("EndpointSlice").length === 0, 10_000, "deleted file's objects to go");
    // The other files' objects stay.
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);
  });

  it("keeps a file's last good objects while it holds invalid YAML", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    await writeFile(path.join(dir, "slice.yaml"), SLICE);
    const { sink, logger, source } = await startSource();
    const deliveriesBefore = sink.deliveries;

    await writeFile(path.join(dir, "seed.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\n spec: [unclosed\n");
    await waitFor(() => source.errors().length === 1, 10_000, "the parse error");
    const [error] = source.errors();
    expect(error).toMatchObject({ file: "seed.yaml", line: expect.any(Number) });
    expect(error.message).toBeTruthy();
    const logged = logger.lines.find((l) => l.level === "error");
    expect(logged?.obj).toMatchObject({ file: "seed.yaml", line: error.line, kept: 3 });
    // Nothing was withdrawn or changed.
    expect(sink.deliveries).toBe(deliveriesBefore);
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);

    // Other files still update meanwhile.
    await writeFile(path.join(dir, "slice.yaml"), SLICE.replace("nginx-1", "nginx-2"));
    await waitFor(() => sink.keys("EndpointSlice").join() === "default/nginx-2", 10_000, "other file's edit");
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);

    // Fixed: its new content replaces the kept objects.
    await writeFile(path.join(dir, "seed.yaml"), SEED.replace("name: tor", "name: tor-2"));
    await waitFor(() => sink.keys("BGPPeer").join() === "tor-2", 10_000, "fixed file");
    expect(source.errors()).toEqual([]);
  });

  it("keeps a file's objects when it reads empty mid-write (truncated, not yet written)", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    // A settle time no test step comes near: the empty read below is never confirmed.
    const { sink, logger, source } = await startSource({ emptySettleMs: 600_000 });
    const before = sink.deliveries;
    await writeFile(path.join(dir, "seed.yaml"), "");
    await source.reload();
    expect(sink.deliveries).toBe(before);
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
    expect(logger.lines.some((l) => l.msg?.includes("read empty"))).toBe(true);
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    await source.reload();
    expect(sink.deliveries).toBe(before);
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);
  });

  it("deletes the objects of a file that stays empty", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    await writeFile(path.join(dir, "slice.yaml"), SLICE);
    const { sink } = await startSource({ emptySettleMs: 50 });
    await writeFile(path.join(dir, "seed.yaml"), "\n");
    await waitFor(() => sink.keys("Service").length === 0 && sink.keys("BGPPeer").length === 0, 10_000, "the emptied file's objects to go");
    expect(sink.keys("EndpointSlice")).toEqual(["default/nginx-1"]);
  });

  it("a file that never parsed contributes nothing, and stops nothing else", async () => {
    await writeFile(path.join(dir, "bad.yaml"), "kind: Service\nmetadata: {name: x\n");
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    const { sink, source } = await startSource();
    expect(source.synced).toBe(true);
    expect(source.errors()).toMatchObject([{ file: "bad.yaml" }]);
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
  });

  it("does not re-deliver when a file is rewritten unchanged, or only unknown kinds change", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    const { sink, source } = await startSource();
    const before = sink.deliveries;
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    await writeFile(path.join(dir, "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\n");
    await source.reload();
    expect(sink.deliveries).toBe(before);
    // Only the object that changed is delivered.
    await writeFile(path.join(dir, "seed.yaml"), SEED.replace("10.49.62.131", "10.49.62.132"));
    await source.reload();
    expect(sink.deliveries).toBe(before + 1);
    expect(sink.events).toEqual([{ type: "upsert", kind: "Service", key: "default/nginx" }]);
  });

  it("polls when file-system events are off", async () => {
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    const { sink } = await startSource({ watch: false, pollIntervalMs: 30 });
    await writeFile(path.join(dir, "slice.yaml"), SLICE);
    await waitFor(() => sink.keys("EndpointSlice").length === 1, 10_000, "polled change");
  });

  it("reads a mounted ConfigMap's files once, through their symlinks", async () => {
    // kubelet's layout: ..<timestamp>/ holds the files, ..data links to it, each key links through ..data.
    await mkdir(path.join(dir, "..2026_01_01"));
    await writeFile(path.join(dir, "..2026_01_01", "seed.yaml"), SEED);
    await symlink("..2026_01_01", path.join(dir, "..data"));
    await symlink(path.join("..data", "seed.yaml"), path.join(dir, "seed.yaml"));
    const { sink, logger } = await startSource();
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);
    expect(logger.lines.filter((l) => /more than once/.test(l.msg ?? ""))).toEqual([]);
  });

  it("delivers a change to one file among many as apply events for just the objects that changed", async () => {
    const count = 300;
    await Promise.all(Array.from({ length: count }, (_, i) => writeFile(path.join(dir, `svc-${i}.yaml`), service(`svc-${i}`, `10.49.1.${i % 250}`, 80))));
    await writeFile(path.join(dir, "seed.yaml"), SEED);
    const { sink, source } = await startSource();
    expect(sink.keys("Service")).toHaveLength(count + 1);
    const replaces = sink.replaces.length;
    // A sink may keep (and mutate) what it is given: that must not affect later deliveries.
    (sink.get("Service", "default/svc-7")!.spec as { ports: Array<{ port: number }> }).ports[0].port = 1;

    await writeAtomic(path.join(dir, "svc-7.yaml"), service("svc-7", "10.49.2.7", 80) + "---\n" + node("node-9"));
    await waitFor(() => sink.keys("Node").includes("node-9"), 10_000, "the edit");
    expect(sink.replaces).toHaveLength(replaces);
    expect(sink.events).toEqual([
      { type: "upsert", kind: "Service", key: "default/svc-7" },
      { type: "upsert", kind: "Node", key: "node-9" },
    ]);
    expect(sink.get("Service", "default/svc-7")?.spec).toEqual({ clusterIP: "10.49.2.7", ports: [{ port: 80 }] });
    // A full re-read finds nothing else to deliver.
    await source.reload();
    expect(sink.events).toHaveLength(2);
  });

  it("delivers copies as structuredClone makes them: shared values stay shared, dates stay dates", async () => {
    const text = "%YAML 1.1\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  a: &c [x]\n  b: *c\n  created: 2001-12-14\n  __proto__: {z: 1}\n";
    await writeFile(path.join(dir, "node.yaml"), text);
    const { sink } = await startSource();
    const spec = sink.get("Node", "n1")!.spec as Record<string, unknown>;
    expect(spec.a).toBe(spec.b);
    expect(spec.created).toEqual(new Date("2001-12-14T00:00:00Z"));
    expect(Object.getPrototypeOf(spec)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(spec, "__proto__")?.value).toEqual({ z: 1 });
    (spec.a as string[]).push("mutated by the sink");
    const deleted: KubeObject[] = [];
    const apply = sink.apply.bind(sink);
    sink.apply = (event) => {
      deleted.push(event.object);
      apply(event);
    };
    await unlink(path.join(dir, "node.yaml"));
    await waitFor(() => sink.events.length > 0, 10_000, "the delete");
    expect(sink.events).toEqual([{ type: "delete", kind: "Node", key: "n1" }]);
    const last = deleted[0].spec as Record<string, unknown>;
    expect(last.a).toEqual(["x"]);
    expect(last.a).toBe(last.b);
    expect(last.created).toBeInstanceOf(Date);
  });

  it("moves an object's definition between files without withdrawing it", async () => {
    await writeFile(path.join(dir, "a.yaml"), service("web", "10.49.0.1") + "---\n" + service("keep", "10.49.0.2"));
    await writeFile(path.join(dir, "b.yaml"), node("node-1"));
    const { sink, logger, source } = await startSource();

    // The same definition added to the later file: in force from there, and nothing changes.
    await writeAtomic(path.join(dir, "b.yaml"), node("node-1") + "---\n" + service("web", "10.49.0.1"));
    await waitFor(() => logger.lines.some((l) => /more than once/.test(l.msg ?? "")), 10_000, "the duplicate");
    expect(logger.lines.find((l) => /more than once/.test(l.msg ?? ""))?.obj).toEqual({ kind: "Service", object: "default/web", files: ["a.yaml", "b.yaml"] });
    await writeAtomic(path.join(dir, "a.yaml"), service("keep", "10.49.0.2"));
    await source.reload();
    expect(sink.events).toEqual([]);
    expect(sink.keys("Service")).toEqual(["default/keep", "default/web"]);

    // Edited in its new file.
    await writeAtomic(path.join(dir, "b.yaml"), node("node-1") + "---\n" + service("web", "10.49.0.1", 8080));
    await waitFor(() => (sink.get("Service", "default/web")?.spec as { ports: Array<{ port: number }> }).ports[0].port === 8080, 10_000, "the edit");
    expect(sink.events).toEqual([{ type: "upsert", kind: "Service", key: "default/web" }]);
  });

  it("deletes a deleted file's objects, one event each", async () => {
    await writeFile(path.join(dir, "a.yaml"), service("web", "10.49.0.1") + "---\n" + node("node-1"));
    await writeFile(path.join(dir, "b.yaml"), service("other", "10.49.0.2"));
    const { sink } = await startSource();

    await unlink(path.join(dir, "a.yaml"));
    await waitFor(() => sink.keys("Node").length === 0, 10_000, "the deletion");
    expect(sink.keys("Service")).toEqual(["default/other"]);
    expect(sink.events).toEqual([
      { type: "delete", kind: "Service", key: "default/web" },
      { type: "delete", kind: "Node", key: "node-1" },
    ]);
  });

  it("when the later of two files defining an object goes, the earlier definition takes over", async () => {
    await writeFile(path.join(dir, "a.yaml"), service("web", "10.49.0.1"));
    await mkdir(path.join(dir, "b"));
    await writeFile(path.join(dir, "b", "web.yaml"), service("web", "10.49.0.2"));
    const { sink, logger } = await startSource();
    expect(sink.get("Service", "default/web")?.spec).toMatchObject({ clusterIP: "10.49.0.2" });
    expect(logger.lines.filter((l) => /more than once/.test(l.msg ?? "")).map((l) => l.obj)).toEqual([
      { kind: "Service", object: "default/web", files: ["a.yaml", "b/web.yaml"] },
    ]);

    await rm(path.join(dir, "b"), { recursive: true });
    await waitFor(() => (sink.get("Service", "default/web")?.spec as { clusterIP: string }).clusterIP === "10.49.0.1", 10_000, "the earlier definition");
    expect(sink.events).toEqual([{ type: "upsert", kind: "Service", key: "default/web" }]);

    await unlink(path.join(dir, "a.yaml"));
    await waitFor(() => sink.keys("Service").length === 0, 10_000, "the last definition gone");
    expect(sink.events.at(-1)).toEqual({ type: "delete", kind: "Service", key: "default/web" });
  });

  it("polls without file-system events, reading only files whose mtime, size or inode changed", async () => {
    const names = ["a.yaml", "b.yaml", "c.yaml"];
    await Promise.all(names.map((name, i) => writeFile(path.join(dir, name), service(name.slice(0, 1), `10.49.0.${i + 1}`))));
    // Old enough that their stamps are trusted from the first read.
    const old = new Date(Date.now() - 3_600_000);
    await Promise.all(names.map((name) => utimes(path.join(dir, name), old, old)));
    const { sink, logger } = await startSource({ watch: false, pollIntervalMs: 30 });
    const mark = logger.lines.length;

    await writeFile(path.join(dir, "c.yaml"), service("c", "10.49.0.3", 8080));
    await waitFor(() => (sink.get("Service", "default/c")?.spec as { ports: Array<{ port: number }> }).ports[0].port === 8080, 10_000, "the polled change");
    expect(sink.events).toEqual([{ type: "upsert", kind: "Service", key: "default/c" }]);
    // Every poll listed all three files; those that read any read only c.yaml (a and b are untouched since the first read).
    const reads = logger.lines.slice(mark).filter((l) => l.msg === "re-listed the manifests directory");
    expect(reads.length).toBeGreaterThan(0);
    for (const { obj } of reads) expect(obj).toMatchObject({ listed: 3, read: 1 });
  });

  it("follows a mounted ConfigMap's update (its ..data symlink swapped)", async () => {
    await mkdir(path.join(dir, "..2026_01_01"));
    await writeFile(path.join(dir, "..2026_01_01", "seed.yaml"), SEED);
    await symlink("..2026_01_01", path.join(dir, "..data"));
    await symlink(path.join("..data", "seed.yaml"), path.join(dir, "seed.yaml"));
    const { sink } = await startSource();
    expect(sink.keys("BGPPeer")).toEqual(["tor"]);

    // kubelet's atomic update: a new timestamped directory, then ..data renamed over.
    await mkdir(path.join(dir, "..2026_01_02"));
    await writeFile(path.join(dir, "..2026_01_02", "seed.yaml"), SEED.replace("name: tor", "name: tor-2"));
    await symlink("..2026_01_02", path.join(dir, "..data_tmp"));
    await rename(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
    await rm(path.join(dir, "..2026_01_01"), { recursive: true });
    await waitFor(() => sink.keys("BGPPeer").join() === "tor-2", 10_000, "the swapped content");
    expect(sink.keys("Service")).toEqual(["default/nginx"]);
  });

  it("refuses to start on a missing directory", async () => {
    source = new ManifestsSource({ dir: path.join(dir, "missing"), pollIntervalMs: 0 });
    await expect(source.start(new Sink())).rejects.toThrow(/ENOENT/);
    expect(source.synced).toBe(false);
  });
});

describe("parseManifestText", () => {
  it("maps kinds by apiVersion and kind", () => {
    expect(resourceKindOf("v1", "Service")).toBe("Service");
    expect(resourceKindOf("discovery.k8s.io/v1", "EndpointSlice")).toBe("EndpointSlice");
    expect(resourceKindOf("discovery.k8s.io/v1beta1", "EndpointSlice")).toBeUndefined();
    expect(resourceKindOf("projectcalico.org/v3", "BGPPeer")).toBe("BGPPeer");
    expect(resourceKindOf("svcbgp.io/v1", "BGPConfiguration")).toBe("BGPConfiguration");
    expect(resourceKindOf("crd.projectcalico.org/v1", "BGPPeer")).toBeUndefined();
    expect(resourceKindOf("v1", "ConfigMap")).toBeUndefined();
  });

  it("normalizes what the API server would", () => {
    const { objects, warnings } = parseManifestText(
      `apiVersion: v1
kind: Secret
metadata:
  name: bgp
  namespace: kube-system
stringData:
  password: s3cret
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    svcbgp.io/local-pref: 200
    flag: true
---
apiVersion: svcbgp.io/v1
kind: BGPPeer
metadata:
  name: tor
  namespace: ignored
---
kind: Service
metadata: {}
`,
      "x.yaml",
    );
    expect(objects.map((o) => `${o.kind} ${objectKey(o.object)}`)).toEqual(["Secret kube-system/bgp", "Service default/web", "BGPPeer tor"]);
    expect(objects[0].object).toMatchObject({ data: { password: Buffer.from("s3cret").toString("base64") } });
    expect(objects[0].object.stringData).toBeUndefined();
    expect(objects[1].object.metadata.annotations).toEqual({ "svcbgp.io/local-pref": "200", flag: "true" });
    expect(warnings).toEqual([expect.stringMatching(/^x\.yaml:\d+: ignoring undefined Service/)]);
  });

  it("reports the line of a syntax error", () => {
    const text = "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: [b\n";
    let caught: unknown;
    try {
      parseManifestText(text, "nodes.yaml");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ManifestParseError);
    expect((caught as ManifestParseError).line).toBeGreaterThanOrEqual(9);
    expect((caught as ManifestParseError).message).toMatch(/^nodes\.yaml:\d+:\d+: /);
  });

  it("rejects duplicate keys and reads JSON", () => {
    expect(() => parseManifestText("kind: Node\nkind: Node\n", "dup.yaml")).toThrow(ManifestParseError);
    expect(() => parseManifestText('{"kind": "Node", ', "bad.json")).toThrow(ManifestParseError);
    expect(parseManifestText('{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}', "n.json").objects).toHaveLength(1);
    expect(parseManifestText("", "empty.yaml")).toEqual({ objects: [], warnings: [] });
  });
});
