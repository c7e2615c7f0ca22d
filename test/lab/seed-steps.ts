/**
 * The seed document's six steps, generated from the seed's own manifests
 * (examples/seed/, never edited): each step is the cumulative set of
 * manifests the watcher's `--manifests DIR` sees, plus what the ToR and the
 * external client should then show. The demo prints these states; the e2e
 * suite asserts them.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { NODES, REPO_ROOT, SEED, TOR, type LabNode } from "./lab.js";

/** A Kubernetes-shaped object, loosely typed: the steps only touch a few fields. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

export const SEED_DIR = process.env.SVCBGP_SEED_DIR ?? join(REPO_ROOT, "examples/seed");
/** The seed's later steps as replacement files (`step<N>-*.yaml`), when present. */
export const SEED_STEPS_DIR = process.env.SVCBGP_SEED_STEPS_DIR ?? join(REPO_ROOT, "examples/seed-steps");

function parseFile(path: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
    const value = doc.toJS() as Manifest | null;
    if (value && typeof value === "object" && value.kind) out.push(value);
  }
  return out;
}

/** Reads every *.yaml / *.yml document under the seed directory. */
export function loadSeedManifests(dir = SEED_DIR): Manifest[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml)$/.test(f) && !f.startsWith(".")).sort();
  } catch (err) {
    throw new Error(`the seed's manifests are missing: cannot read ${dir} (${(err as Error).message})`, { cause: err });
  }
  return files.flatMap((f) => parseFile(join(dir, f)));
}

/** The objects of `step<N>-*.yaml` files, by step number; empty when the directory is absent. */
export function loadStepReplacements(dir = SEED_STEPS_DIR): Map<number, Manifest[]> {
  const out = new Map<number, Manifest[]>();
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const f of files) {
    const m = /^step(\d+)-.*\.ya?ml$/.exec(f);
    if (!m) continue;
    const n = Number(m[1]);
    out.set(n, [...(out.get(n) ?? []), ...parseFile(join(dir, f))]);
  }
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The route the ToR should have for a prefix: the nodes that must be its next hops. */
export interface ExpectedRoute {
  prefix: string;
  nodes: string[];
}

export interface StepExpectation {
  /** Exactly these proto-bird routes in the ToR kernel (per family present), with exactly these next hops. */
  routes: ExpectedRoute[];
  /** Curls from the external client and whether they succeed (false = time out). */
  curls: Array<{ ip: string; ok: boolean }>;
}

export interface SeedStep {
  n: number;
  title: string;
  /** What the seed does at this step, as its `kubectl`/`calicoctl` would. */
  action: string;
  manifests: Manifest[];
  expect: StepExpectation;
}

/** The seed's objects, sorted by role, with helpers to derive variants. */
export class SeedManifests {
  readonly peer: Manifest;
  readonly config: Manifest;
  readonly service: Manifest;
  readonly slices: Manifest[];
  readonly nodes: Manifest[];
  /** Everything else (the Deployment, say): passed through from step 3 on. */
  readonly others: Manifest[];

  /**
   * @param all the seed's objects (after its step 3)
   * @param replacements per step, objects that replace their counterparts
   *   (same kind and name) from that step on; steps without one are derived
   *   in code from the seed's text
   */
  constructor(
    readonly all: Manifest[],
    readonly replacements: Map<number, Manifest[]> = new Map(),
  ) {
    const one = (kind: string, pred: (m: Manifest) => boolean = () => true) => {
      const found = all.filter((m) => m.kind === kind && pred(m));
      if (found.length !== 1) throw new Error(`the seed's manifests should hold exactly one ${kind}; found ${found.length}`);
      return found[0];
    };
    this.peer = one("BGPPeer");
    this.config = one("BGPConfiguration", (m) => m.metadata.name === "default");
    this.service = one("Service");
    const svcName = this.service.metadata.name;
    this.slices = all.filter((m) => m.kind === "EndpointSlice" && (m.metadata.labels as Record<string, string> | undefined)?.["kubernetes.io/service-name"] === svcName);
    if (!this.slices.length) throw new Error(`the seed's manifests hold no EndpointSlice for Service ${svcName}`);
    this.nodes = all.filter((m) => m.kind === "Node");
    if (this.nodes.length !== NODES.length) throw new Error(`the seed's manifests should hold ${NODES.length} Nodes; found ${this.nodes.length}`);
    const known = new Set([this.peer, this.config, this.service, ...this.slices, ...this.nodes]);
    this.others = all.filter((m) => !known.has(m));
  }

  static load(dir = SEED_DIR, stepsDir = SEED_STEPS_DIR): SeedManifests {
    return new SeedManifests(loadSeedManifests(dir), loadStepReplacements(stepsDir));
  }

  /** Step `n`'s replacement for `base` (same kind and name), if the seed ships one. */
  private replacement(n: number, base: Manifest): Manifest | undefined {
    return this.replacements.get(n)?.find((m) => m.kind === base.kind && m.metadata.name === base.metadata.name);
  }

  /** Names of the nodes with a ready (or unset) endpoint in `slices`. */
  static endpointNodes(slices: Manifest[]): string[] {
    const names = new Set<string>();
    for (const s of slices) {
      for (const e of (s.endpoints as Array<{ nodeName?: string; conditions?: { ready?: boolean } }> | undefined) ?? []) {
        if (e.nodeName && e.conditions?.ready !== false) names.add(e.nodeName);
      }
    }
    return [...names].sort();
  }

  get endpointNodes(): string[] {
    return SeedManifests.endpointNodes(this.slices);
  }

  /** The six steps of the seed, cumulative. */
  steps(): SeedStep[] {
    const all = NODES.map((n) => n.name);
    const local = this.endpointNodes;
    const svcName = `${this.service.metadata.namespace ?? "default"}/${this.service.metadata.name}`;
    const step1 = [this.peer, ...this.nodes];
    const step2 = [...step1, this.config];
    const step3 = [...step2, this.service, ...this.slices, ...this.others];
    const svcLocal = this.replacement(4, this.service) ?? withSpec(this.service, { type: "NodePort", externalTrafficPolicy: "Local" });
    const step4 = [...step1, this.config, svcLocal, ...this.slices, ...this.others];
    // The seed writes `serviceClusterIPs:` with no value (YAML null).
    const configExt = this.replacement(5, this.config) ?? withSpec(this.config, { serviceClusterIPs: null, serviceExternalIPs: [{ cidr: SEED.externalCidr }] });
    const step5 = [...step1, configExt, svcLocal, ...this.slices, ...this.others];
    const svcExt = this.replacement(6, this.service) ?? withSpec(svcLocal, { externalIPs: [SEED.externalIP] });
    const step6 = [...step1, configExt, svcExt, ...this.slices, ...this.others];
    return [
      {
        n: 1,
        title: "Peer every node with the ToR",
        action: `calicoctl apply -f - <<EOF  # BGPPeer ${this.peer.metadata.name}: peerIP ${TOR.ip}, asNumber 64512`,
        manifests: step1,
        expect: { routes: [], curls: [] },
      },
      {
        n: 2,
        title: "Advertise the service cluster-IP range",
        action: `calicoctl create -f - <<EOF  # BGPConfiguration default: serviceClusterIPs [${SEED.clusterCidr}]`,
        manifests: step2,
        expect: { routes: [{ prefix: SEED.clusterCidr, nodes: all }], curls: [] },
      },
      {
        n: 3,
        title: "Create the nginx Service (2 replicas)",
        action: `kubectl apply -f nginx.yaml; kubectl expose nginx  # ClusterIP ${SEED.clusterIP}, endpoints on ${local.join(", ")}`,
        manifests: step3,
        expect: { routes: [{ prefix: SEED.clusterCidr, nodes: all }], curls: [{ ip: SEED.clusterIP, ok: true }] },
      },
      {
        n: 4,
        title: "externalTrafficPolicy: Local",
        action: `kubectl patch service nginx -p '{"spec":{"type": "NodePort", "externalTrafficPolicy":"Local"}}'`,
        manifests: step4,
        expect: {
          routes: [
            { prefix: SEED.clusterCidr, nodes: all },
            { prefix: `${SEED.clusterIP}/32`, nodes: local },
          ],
          curls: [{ ip: SEED.clusterIP, ok: true }],
        },
      },
      {
        n: 5,
        title: "Advertise external IPs instead of cluster IPs",
        action: `calicoctl apply -f - <<EOF  # BGPConfiguration default: serviceClusterIPs: (none), serviceExternalIPs [${SEED.externalCidr}]`,
        manifests: step5,
        expect: { routes: [{ prefix: SEED.externalCidr, nodes: all }], curls: [{ ip: SEED.clusterIP, ok: false }] },
      },
      {
        n: 6,
        title: "Give the Service an external IP",
        action: `kubectl patch svc nginx -p '{"spec": {"externalIPs": ["${SEED.externalIP}"]}}'  # ${svcName}`,
        manifests: step6,
        expect: {
          routes: [
            { prefix: SEED.externalCidr, nodes: all },
            // externalTrafficPolicy is still Local: the external IP's host route comes from the endpoint nodes only.
            { prefix: `${SEED.externalIP}/32`, nodes: local },
          ],
          curls: [
            { ip: SEED.externalIP, ok: true },
            { ip: SEED.clusterIP, ok: false },
          ],
        },
      },
    ];
  }

  /**
   * The slices with every endpoint on `from` moved to `to` (an endpoint moving
   * nodes, as when a pod is rescheduled).
   */
  slicesMoved(from: string, to: string): Manifest[] {
    return this.slices.map((s) => {
      const c = clone(s);
      for (const e of (c.endpoints as Array<{ nodeName?: string; addresses?: string[] }> | undefined) ?? []) {
        if (e.nodeName === from) e.nodeName = to;
      }
      return c;
    });
  }

  /**
   * The dual-stack variant: a second BGPPeer for the ToR's IPv6 address, the
   * cluster range in both families, a dual-stack Service with
   * externalTrafficPolicy Local, and an IPv6 EndpointSlice mirroring the IPv4
   * one; Nodes get an IPv6 InternalIP too.
   */
  dualStack(): Manifest[] {
    const peer6 = clone(this.peer);
    peer6.metadata = { ...peer6.metadata, name: `${this.peer.metadata.name}-v6` };
    peer6.spec = { ...peer6.spec, peerIP: TOR.ip6 };
    const config = withSpec(this.config, { serviceClusterIPs: [{ cidr: SEED.clusterCidr }, { cidr: SEED.clusterCidr6 }] });
    const service = withSpec(this.service, {
      type: "NodePort",
      externalTrafficPolicy: "Local",
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv4", "IPv6"],
      clusterIP: SEED.clusterIP,
      clusterIPs: [SEED.clusterIP, SEED.clusterIP6],
    });
    const slices6 = this.slices.map((s, i) => {
      const c = clone(s);
      c.metadata = { ...c.metadata, name: `${s.metadata.name}-v6` };
      c.addressType = "IPv6";
      let k = 0;
      for (const e of (c.endpoints as Array<{ addresses?: string[] }> | undefined) ?? []) {
        e.addresses = [`fd00:48::${(i + 1).toString(16)}:${(++k).toString(16)}`];
      }
      return c;
    });
    const nodes = this.nodes.map((n) => {
      const c = clone(n);
      const lab = NODES.find((x) => x.name === n.metadata.name) as LabNode | undefined;
      const status = (c.status ?? {}) as { addresses?: Array<{ type: string; address: string }> };
      if (lab) status.addresses = [...(status.addresses ?? []), { type: "InternalIP", address: lab.ip6 }];
      c.status = status;
      return c;
    });
    return [this.peer, peer6, ...nodes, config, service, ...this.slices, ...slices6, ...this.others];
  }
}

function withSpec(m: Manifest, patch: Record<string, unknown>): Manifest {
  const c = clone(m);
  c.spec = { ...(c.spec ?? {}), ...patch };
  return c;
}

function fileNameFor(m: Manifest): string {
  const ns = m.metadata.namespace ? `${m.metadata.namespace}-` : "";
  return `${m.kind.toLowerCase()}-${ns}${m.metadata.name}.yaml`.replace(/[^A-Za-z0-9._-]/g, "_");
}

/**
 * Makes `dir` hold exactly `manifests` (one file per object). Each file is
 * written to a hidden temporary name and renamed into place, so the watcher
 * (which skips hidden entries) never reads half a file; files not wanted any
 * more are removed. Files whose content is unchanged are left alone.
 */
export function writeManifests(dir: string, manifests: Manifest[]): void {
  mkdirSync(dir, { recursive: true });
  const wanted = new Map<string, string>();
  for (const m of manifests) wanted.set(fileNameFor(m), stringify(m));
  for (const f of readdirSync(dir)) {
    if (!wanted.has(f)) rmSync(join(dir, f), { force: true, recursive: true });
  }
  for (const [name, text] of wanted) {
    const path = join(dir, name);
    let current: string | undefined;
    try {
      current = readFileSync(path, "utf8");
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    const tmp = join(dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
}
