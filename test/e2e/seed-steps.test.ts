/**
 * The demo's and the seed suite's steps, checked without a lab: they come from
 * examples/seed/ (and examples/seed-steps/), and the in-code derivation agrees
 * with the replacement files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SEED } from "../lab/lab.js";
import { loadSeedManifests, SeedManifests, writeManifests, type Manifest } from "../lab/seed-steps.js";

function specOf(manifests: Manifest[], kind: string): Record<string, unknown> {
  const m = manifests.find((x) => x.kind === kind);
  if (!m) throw new Error(`no ${kind}`);
  return m.spec ?? {};
}

describe("seed steps", () => {
  const seed = SeedManifests.load();
  const steps = seed.steps();

  it("are the seed's six steps, cumulative, from the seed's own manifests", () => {
    expect(steps.map((s) => s.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps[0].manifests.map((m) => m.kind).sort()).toEqual(["BGPPeer", "Node", "Node", "Node"]);
    expect(steps[0].manifests.find((m) => m.kind === "BGPPeer")).toMatchObject({ apiVersion: "projectcalico.org/v3", spec: { peerIP: "192.168.1.1", asNumber: 64512 } });
    expect(specOf(steps[1].manifests, "BGPConfiguration")).toEqual({ serviceClusterIPs: [{ cidr: SEED.clusterCidr }] });
    expect(specOf(steps[2].manifests, "Service")).toMatchObject({ clusterIP: SEED.clusterIP });
    expect(seed.endpointNodes).toHaveLength(2);
    expect(specOf(steps[3].manifests, "Service")).toMatchObject({ type: "NodePort", externalTrafficPolicy: "Local" });
    const cfg5 = specOf(steps[4].manifests, "BGPConfiguration");
    expect(cfg5.serviceClusterIPs ?? []).toEqual([]);
    expect(cfg5.serviceExternalIPs).toEqual([{ cidr: SEED.externalCidr }]);
    expect(specOf(steps[5].manifests, "Service")).toMatchObject({ externalTrafficPolicy: "Local", externalIPs: [SEED.externalIP] });
  });

  it("derived in code, match examples/seed-steps/ where it has a replacement", () => {
    const derived = new SeedManifests(loadSeedManifests()).steps();
    const strip = (spec: Record<string, unknown>) => {
      const { ports: _ports, ...rest } = spec;
      return rest;
    };
    for (const i of [3, 4, 5]) {
      for (const kind of ["Service", "BGPConfiguration"]) {
        expect(strip(specOf(derived[i].manifests, kind)), `step ${i + 1} ${kind}`).toEqual(strip(specOf(steps[i].manifests, kind)));
      }
    }
  });

  it("moving an endpoint changes only its node", () => {
    const local = seed.endpointNodes;
    const other = ["node-1", "node-2", "node-3"].find((n) => !local.includes(n))!;
    expect(SeedManifests.endpointNodes(seed.slicesMoved(local[0], other))).toEqual([local[1], other].sort());
    expect(seed.endpointNodes).toEqual(local);
  });

  it("the dual-stack variant adds an IPv6 peer, range, cluster IP and slice", () => {
    const ds = seed.dualStack();
    expect(ds.filter((m) => m.kind === "BGPPeer").map((m) => m.spec?.peerIP)).toEqual(["192.168.1.1", "fd00:1::1"]);
    expect(specOf(ds, "Service")).toMatchObject({ clusterIPs: [SEED.clusterIP, SEED.clusterIP6], externalTrafficPolicy: "Local" });
    expect(ds.filter((m) => m.kind === "EndpointSlice").map((m) => m.addressType)).toEqual(["IPv4", "IPv6"]);
  });

  it("writeManifests makes a directory hold exactly the step's objects", () => {
    const dir = mkdtempSync(join(tmpdir(), "svcbgp-steps-"));
    try {
      writeFileSync(join(dir, "stale.yaml"), "kind: Nothing\n");
      writeManifests(dir, steps[5].manifests);
      const files = readdirSync(dir);
      expect(files.some((f) => f.startsWith("."))).toBe(false);
      expect(files).not.toContain("stale.yaml");
      const objects = files.map((f) => parse(readFileSync(join(dir, f), "utf8")) as Manifest);
      expect(objects.map((o) => o.kind).sort()).toEqual(steps[5].manifests.map((m) => m.kind).sort());
      writeManifests(dir, steps[0].manifests);
      expect(readdirSync(dir)).toHaveLength(steps[0].manifests.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
