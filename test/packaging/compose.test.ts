/**
 * compose.yaml: docker-compose (Debian's 1.29) accepts it, with and without
 * the k3s profile; the local stack has the seed's addresses; the ToR's BIRD
 * configuration parses and has what ECMP over iBGP needs.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, isObj, loadYamlDocs, toolAvailable, type Obj } from "./support.js";

const compose = loadYamlDocs(join(ROOT, "compose.yaml"))[0].value as Obj;
const services = compose.services as Record<string, Obj>;
const ipOf = (service: string, network: string): string | undefined => {
  const networks = services[service]?.networks;
  return isObj(networks) && isObj(networks[network]) ? (networks[network].ipv4_address as string) : undefined;
};

describe("compose.yaml (static)", () => {
  it("uses a compose file version docker-compose 1.29 accepts", () => {
    expect(compose.version).toBe("3.8");
  });

  it("has the seed's networks with fixed subnets and the bridges off .1", () => {
    const networks = compose.networks as Record<string, Obj>;
    const subnet = (name: string) => ((networks[name].ipam as Obj).config as Obj[])[0];
    expect(subnet("nodes")).toEqual({ subnet: "192.168.1.0/24", gateway: "192.168.1.254" });
    expect(subnet("clients")).toEqual({ subnet: "192.168.2.0/24", gateway: "192.168.2.254" });
  });

  it("puts the ToR, watcher, speakers and client where the seed has them", () => {
    expect(ipOf("tor", "nodes")).toBe("192.168.1.1");
    expect(ipOf("tor", "clients")).toBe("192.168.2.1");
    expect(ipOf("watcher", "nodes")).toBe("192.168.1.5");
    expect(["speaker-1", "speaker-2", "speaker-3"].map((s) => ipOf(s, "nodes"))).toEqual(["192.168.1.10", "192.168.1.11", "192.168.1.12"]);
    expect(["speaker-1", "speaker-2", "speaker-3"].map((s) => (services[s].environment as Obj).NODE_NAME)).toEqual(["node-1", "node-2", "node-3"]);
    expect(ipOf("client", "clients")).toBe("192.168.2.10");
  });

  it("the watcher reads ./examples/seed; the speakers dial it", () => {
    expect(services.watcher.command).toEqual(expect.arrayContaining(["svcbgp-watcher", "--manifests", "/manifests"]));
    expect(services.watcher.volumes).toContain("${SVCBGP_MANIFESTS:-./examples/seed}:/manifests:ro");
    for (const speaker of ["speaker-1", "speaker-2", "speaker-3"]) {
      expect(services[speaker].command).toEqual(["svcbgp-speaker", "--watcher", "watcher:50051"]);
    }
  });

  it("the ToR may program routes and forward; svcbgp containers get no capabilities", () => {
    expect(services.tor.cap_add).toEqual(["NET_ADMIN"]);
    expect((services.tor.sysctls as Obj)["net.ipv4.ip_forward"]).toBe("1");
    for (const name of ["watcher", "speaker-1", "speaker-2", "speaker-3"]) {
      expect(services[name].cap_drop).toEqual(["ALL"]);
      expect(services[name].cap_add).toBeUndefined();
      expect(services[name].read_only).toBe(true);
      expect(services[name].user).toBeUndefined(); // the image's non-root user
    }
  });

  it("the k3s profile runs a k3s server and a watcher in Kubernetes mode", () => {
    expect(services.k3s.profiles).toEqual(["k3s"]);
    expect(services["watcher-k3s"].profiles).toEqual(["k3s"]);
    expect(services["watcher-k3s"].command).toEqual(expect.arrayContaining(["svcbgp-watcher", "--kubeconfig"]));
    // Nothing outside the profile depends on it.
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles) continue;
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys((service.depends_on as Obj | undefined) ?? {});
      expect(deps.filter((d: string) => services[d]?.profiles), name).toEqual([]);
    }
  });
});

const composeAvailable = toolAvailable("docker-compose config", "docker-compose", "apt-get install docker-compose");

describe.runIf(composeAvailable)("docker-compose -f compose.yaml config", () => {
  const config = (...profile: string[]): Obj => {
    const out = execFileSync("docker-compose", [...profile, "-f", "compose.yaml", "config"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, SVCBGP_MANIFESTS: "", SVCBGP_TAG: "", K3S_TAG: "" },
    });
    return parse(out) as Obj;
  };

  it("accepts the default stack", () => {
    const services = Object.keys(config().services as Obj).sort();
    expect(services).toEqual(expect.arrayContaining(["client", "speaker-1", "speaker-2", "speaker-3", "tor", "watcher"]));
  });

  it("accepts the k3s profile", () => {
    const services = Object.keys(config("--profile", "k3s").services as Obj);
    expect(services).toEqual(expect.arrayContaining(["k3s", "watcher-k3s"]));
  });
});

const birdConf = join(ROOT, "deploy/compose/bird/bird.conf");

describe("the ToR's BIRD configuration", () => {
  const text = readFileSync(birdConf, "utf8").replace(/#.*$/gm, "");

  it("has what the lab found ECMP over iBGP needs", () => {
    expect(text).toMatch(/router id 192\.168\.1\.1;/);
    expect(text).toMatch(/local 192\.168\.1\.1 as 64512;/);
    expect(text).toMatch(/neighbor range 192\.168\.1\.0\/24 internal;/);
    expect(text).toMatch(/^\s*direct;/m);
    expect(text).toMatch(/gateway direct;/);
    expect(text).toMatch(/merge paths on;/);
    expect(text).toMatch(/export all;/);
    expect(text).toMatch(/graceful restart on;/);
  });

  const birdAvailable = toolAvailable("bird -p (parse bird.conf)", "bird", "apt-get install bird2");
  it.runIf(birdAvailable)("parses (bird -p)", () => {
    execFileSync("bird", ["-p", "-c", birdConf], { stdio: "pipe", timeout: 30_000 });
  });
});
