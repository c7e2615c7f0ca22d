/** examples/seed/ and examples/seed-steps/ load through parseManifests and give the seed's routes. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseManifests } from "@svcbgp/config";
import { describe, expect, it } from "vitest";
import type { KubeObject, ResourceKind } from "../sources/source.js";
import { RouteEngine } from "./engine.js";
import { routesByNode } from "./fixtures.js";

const examples = fileURLToPath(new URL("../../../../examples/", import.meta.url));
const FOLLOWED = new Set<string>(["Service", "EndpointSlice", "Node", "BGPConfiguration", "BGPPeer", "Secret"]);

function read(file: string): KubeObject[] {
  const parsed = parseManifests(readFileSync(examples + file, "utf8"), file);
  expect(parsed.errors).toEqual([]);
  return parsed.objects.filter((o) => FOLLOWED.has(o.kind as string)) as unknown as KubeObject[];
}

function feed(engine: RouteEngine, objects: KubeObject[]): void {
  for (const object of objects) engine.apply({ type: "upsert", kind: object.kind as ResourceKind, object });
}

describe("examples/seed", () => {
  const engine = new RouteEngine();

  it("steps 1-3: every node peers with the ToR and advertises 10.49.0.0/16 only", () => {
    const files = readdirSync(examples + "seed").filter((f) => f.endsWith(".yaml"));
    expect(files.sort()).toEqual(["bgpconfiguration.yaml", "bgppeer.yaml", "nginx.yaml", "nodes.yaml"]);
    for (const file of files) feed(engine, read(`seed/${file}`));
    expect(engine.configIssues()).toEqual([]);
    expect(routesByNode(engine)).toEqual({ "node-1": ["10.49.0.0/16"], "node-2": ["10.49.0.0/16"], "node-3": ["10.49.0.0/16"] });
    expect(engine.intent("node-2")!.peers.map((p) => [p.address, p.asn, p.sourceAddress])).toEqual([["192.168.1.1", 64512, "192.168.1.11"]]);
    expect(engine.explain("default", "nginx").ips[0].nodes.map((n) => n.reason)).toEqual(Array(3).fill("covered by 10.49.0.0/16"));
  });

  it("step 4: externalTrafficPolicy Local", () => {
    feed(engine, read("seed-steps/step4-nginx.yaml"));
    expect(routesByNode(engine)).toEqual({
      "node-1": ["10.49.0.0/16"],
      "node-2": ["10.49.0.0/16", "10.49.62.131/32"],
      "node-3": ["10.49.0.0/16", "10.49.62.131/32"],
    });
  });

  it("step 5: serviceExternalIPs instead of serviceClusterIPs", () => {
    feed(engine, read("seed-steps/step5-bgpconfiguration.yaml"));
    expect(routesByNode(engine)).toEqual({ "node-1": ["192.168.3.0/24"], "node-2": ["192.168.3.0/24"], "node-3": ["192.168.3.0/24"] });
  });

  it("step 6: an external IP", () => {
    feed(engine, read("seed-steps/step6-nginx.yaml"));
    expect(routesByNode(engine)).toEqual({
      "node-1": ["192.168.3.0/24"],
      "node-2": ["192.168.3.0/24", "192.168.3.180/32"],
      "node-3": ["192.168.3.0/24", "192.168.3.180/32"],
    });
  });
});
