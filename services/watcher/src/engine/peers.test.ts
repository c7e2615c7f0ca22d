/** Peer selection, addresses, timers and passwords. */
import { describe, expect, it } from "vitest";
import { RouteEngine } from "./engine.js";
import { bgpPeer, load, node, remove, secret, upsert } from "./fixtures.js";

function engineWithNodes(): RouteEngine {
  const engine = new RouteEngine();
  load(engine, [
    node("node-1", { ip: "192.168.1.10", ipv6: "fd00:1::10", labels: { rack: "r1" } }),
    node("node-2", { ip: "192.168.1.11", ipv6: "fd00:1::11", labels: { rack: "r2" } }),
    node("node-3", { ip: "192.168.1.12", labels: { rack: "r2", edge: "true" } }),
  ]);
  return engine;
}

const peersOf = (engine: RouteEngine, name: string) => engine.intent(name)!.peers.map((p) => p.name);

describe("peer selection", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["no node or selector: every node", {}, ["node-1", "node-2", "node-3"]],
    ["node: that node", { node: "node-2" }, ["node-2"]],
    ["Calico selector", { nodeSelector: "rack == 'r2' && !has(edge)" }, ["node-2"]],
    ["in-set selector", { nodeSelector: "rack in {'r1','r2'}" }, ["node-1", "node-2", "node-3"]],
    ["Kubernetes selector", { nodeSelector: "rack=r2,edge=true" }, ["node-3"]],
    ["all()", { nodeSelector: "all()" }, ["node-1", "node-2", "node-3"]],
  ])("%s", (_name, extra, expected) => {
    const engine = engineWithNodes();
    engine.apply(upsert("BGPPeer", bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512, ...extra })));
    expect(engine.listNodes().filter((n) => peersOf(engine, n).includes("tor"))).toEqual(expected);
  });

  it("re-evaluates selectors when node labels change", () => {
    const engine = engineWithNodes();
    engine.apply(upsert("BGPPeer", bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512, nodeSelector: "rack == 'r1'" })));
    const changes = engine.apply(upsert("Node", node("node-2", { ip: "192.168.1.11", ipv6: "fd00:1::11", labels: { rack: "r1" } })));
    expect(changes.nodes()).toEqual(["node-2"]);
    expect(peersOf(engine, "node-2")).toEqual(["tor"]);
  });

  it("never peers a node with itself and lets the first name win on duplicates", () => {
    const engine = engineWithNodes();
    engine.apply(upsert("BGPPeer", bgpPeer("z-node1", { peerIP: "192.168.1.10", asNumber: 64512 })));
    engine.apply(upsert("BGPPeer", bgpPeer("b-tor", { peerIP: "192.168.1.1", asNumber: 65001 })));
    engine.apply(upsert("BGPPeer", bgpPeer("a-tor", { peerIP: "192.168.1.1", asNumber: 65000 })));
    expect(engine.intent("node-1")!.peers.map((p) => [p.name, p.asn])).toEqual([["a-tor", 65000]]);
    expect(engine.intent("node-2")!.peers.map((p) => p.name)).toEqual(["a-tor", "z-node1"]);
  });
});

describe("peer fields", () => {
  it("maps every BGPPeer field", () => {
    const engine = engineWithNodes();
    engine.apply(
      upsert(
        "BGPPeer",
        bgpPeer(
          "tor",
          { peerIP: "192.168.1.1:1179", asNumber: 65000, localASNumber: 65010, keepaliveTime: "20s", maxRestartTime: "2m", holdTime: "1m", ttlSecurity: 1, numAllowedLocalASNumbers: 2 },
          "svcbgp.io/v1",
        ),
      ),
    );
    expect(engine.intent("node-1")!.peers[0]).toMatchObject({
      address: "192.168.1.1",
      port: 1179,
      asn: 65000,
      localAsn: 65010,
      sourceAddress: "192.168.1.10",
      holdTime: 60,
      keepalive: 20,
      gracefulRestart: { enabled: true, restartTime: 120 },
      ttlSecurity: 1,
      numAllowedLocalAsNumbers: 2,
      passive: false,
    });
    expect(engine.peer("node-1", "192.168.1.1:1179")).toBeDefined();
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["IPv6 peer: the node's IPv6 InternalIP", { peerIP: "[fd00:1::1]:179" }, "node-1", "fd00:1::10"],
    ["IPv6 peer on a node without IPv6", { peerIP: "fd00:1::1" }, "node-3", ""],
    ["sourceAddress None", { peerIP: "192.168.1.1", sourceAddress: "None" }, "node-1", ""],
    ["explicit sourceAddress", { peerIP: "192.168.1.1", sourceAddress: "192.168.9.9" }, "node-1", "192.168.9.9"],
    ["UseNodeIP", { peerIP: "192.168.1.1", sourceAddress: "UseNodeIP" }, "node-2", "192.168.1.11"],
  ])("source address: %s", (_name, spec, nodeName, expected) => {
    const engine = engineWithNodes();
    engine.apply(upsert("BGPPeer", bgpPeer("p", { asNumber: 64512, ...spec })));
    expect(engine.intent(nodeName)!.peers[0].sourceAddress).toBe(expected);
  });
});

describe("passwords", () => {
  const withPassword = bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512, password: { secretKeyRef: { name: "bgp-secrets", key: "tor" } } });

  it("resolves the Secret in the watcher's namespace, and withholds the peer until it can", () => {
    const engine = engineWithNodes();
    const first = engine.apply(upsert("BGPPeer", withPassword));
    expect(engine.intent("node-1")!.peers).toEqual([]);
    expect(first.issues).toEqual([
      { resource: "BGPPeer/tor", field: "spec.password.secretKeyRef", reason: expect.stringContaining("Secret svcbgp-system/bgp-secrets not found") },
    ]);
    expect(engine.configIssues()).toHaveLength(1);

    // A Secret of the same name elsewhere does not count.
    expect(engine.apply(upsert("Secret", secret("bgp-secrets", { tor: "s3cret" }, "default"))).empty).toBe(true);

    const arrived = engine.apply(upsert("Secret", secret("bgp-secrets", { tor: "s3cret" })));
    expect(arrived.nodes()).toEqual(["node-1", "node-2", "node-3"]);
    expect(arrived.forNode("node-1")!.peers).toEqual(new Set(["192.168.1.1"]));
    expect(engine.intent("node-1")!.peers[0].password).toBe("s3cret");
    expect(engine.configIssues()).toEqual([]);

    const rotated = engine.apply(upsert("Secret", secret("bgp-secrets", { tor: "n3w" })));
    expect(engine.delta("node-2", rotated.forNode("node-2")!).upsertedPeers[0].password).toBe("n3w");

    // The Secret going away (a rotation half done, a mistake) keeps the sessions up with the password they had, and says so.
    const gone = engine.apply(remove("Secret", secret("bgp-secrets", {})));
    expect(gone.forNode("node-2")).toBeUndefined();
    expect(engine.intent("node-2")!.peers[0].password).toBe("n3w");
    expect(engine.configIssues()).toEqual([
      { resource: "BGPPeer/tor", field: "spec.password.secretKeyRef", reason: expect.stringContaining("not found; the peer keeps the password it had") },
    ]);
  });

  it("keeps the last password while the BGPPeer points at a Secret that does not exist yet", () => {
    const engine = engineWithNodes();
    load(engine, [secret("bgp-secrets", { tor: "old" }), withPassword]);
    const moved = bgpPeer("tor", { peerIP: "192.168.1.1", asNumber: 64512, password: { secretKeyRef: { name: "bgp-secrets-v2", key: "tor" } } });
    engine.apply(upsert("BGPPeer", moved));
    expect(engine.intent("node-1")!.peers.map((p) => p.password)).toEqual(["old"]);
    expect(engine.configIssues()[0].reason).toContain("Secret svcbgp-system/bgp-secrets-v2 not found; the peer keeps the password it had");
    const created = engine.apply(upsert("Secret", secret("bgp-secrets-v2", { tor: "new" })));
    expect(engine.delta("node-1", created.forNode("node-1")!).upsertedPeers.map((p) => p.password)).toEqual(["new"]);
    expect(engine.configIssues()).toEqual([]);
  });

  it("takes the namespace from the constructor", () => {
    const engine = new RouteEngine({ secretNamespace: "calico-system" });
    load(engine, [node("node-1", { ip: "192.168.1.10" }), secret("bgp-secrets", { tor: "pw" }, "calico-system"), withPassword]);
    expect(engine.intent("node-1")!.peers[0].password).toBe("pw");
  });

  it("reports a missing key", () => {
    const engine = engineWithNodes();
    load(engine, [secret("bgp-secrets", { other: "x" }), withPassword]);
    expect(engine.configIssues()[0].reason).toContain('has no key "tor"');
  });
});
