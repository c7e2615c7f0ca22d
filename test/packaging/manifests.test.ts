/**
 * Every YAML file under deploy/ and examples/ (and compose.yaml) parses, the
 * same way under YAML 1.1 (go-yaml in kubectl, PyYAML in docker-compose) as
 * under 1.2; and the static properties the deployment promises hold: least
 * privilege RBAC, non-root read-only workloads, probes, mTLS wiring, the
 * speaker's capabilities, and a Dockerfile that builds without a registry.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ROOT,
  YAML_FILE,
  containersOf,
  filesUnder,
  findObject,
  isObj,
  kustomizeResources,
  loadYamlDocs,
  podSpec,
  rel,
  type Container,
  type Obj,
} from "./support.js";

const yamlFiles = [...filesUnder("deploy", YAML_FILE), ...filesUnder("examples", YAML_FILE), join(ROOT, "compose.yaml")];

describe("YAML files", () => {
  it("there are YAML files to check", () => {
    expect(yamlFiles.map(rel)).toEqual(expect.arrayContaining(["compose.yaml", "deploy/kubernetes/kustomization.yaml"]));
  });

  it.each(yamlFiles.map((file) => [rel(file), file]))("%s parses, identically as YAML 1.1 and 1.2", (_name, file) => {
    const docs12 = loadYamlDocs(file);
    expect(docs12.length).toBeGreaterThan(0);
    // A scalar such as 0440, yes or 65535:100 means different things to go-yaml/PyYAML (1.1) and to YAML 1.2.
    const docs11 = loadYamlDocs(file, undefined, "1.1");
    expect(docs11.map((d) => d.value), "a scalar reads differently under YAML 1.1: quote it").toEqual(docs12.map((d) => d.value));
  });

  it("Kubernetes objects have apiVersion, kind and metadata.name", () => {
    // Everything under deploy/kubernetes is a Kubernetes object; under examples/, whatever has an apiVersion or a kind.
    const objects = [
      ...filesUnder("deploy/kubernetes", YAML_FILE).filter((file) => !file.endsWith("kustomization.yaml")).flatMap((file) => loadYamlDocs(file).map((doc) => ({ file, value: doc.value }))),
      ...filesUnder("examples", YAML_FILE)
        .flatMap((file) => loadYamlDocs(file).map((doc) => ({ file, value: doc.value })))
        .filter(({ value }) => isObj(value) && ("apiVersion" in value || "kind" in value)),
    ];
    expect(objects.length).toBeGreaterThan(10);
    const bad = objects.filter(({ value }) => {
      if (!isObj(value)) return true;
      const metadata = value.metadata;
      return typeof value.apiVersion !== "string" || typeof value.kind !== "string" || !isObj(metadata) || typeof metadata.name !== "string";
    });
    expect(bad.map(({ file }) => rel(file))).toEqual([]);
  });
});

describe("deploy/kubernetes", () => {
  const objects = kustomizeResources();
  const kindsAndNames = objects.map(({ object }) => `${object.kind}/${(object.metadata as Obj).name}`);

  it("installs the namespace, CRDs, RBAC, watcher and speaker", () => {
    expect(kindsAndNames).toEqual(
      expect.arrayContaining([
        "Namespace/svcbgp-system",
        "CustomResourceDefinition/bgpconfigurations.svcbgp.io",
        "CustomResourceDefinition/bgppeers.svcbgp.io",
        "ServiceAccount/svcbgp-watcher",
        "ServiceAccount/svcbgp-speaker",
        "ClusterRole/svcbgp-watcher",
        "ClusterRoleBinding/svcbgp-watcher",
        "Role/svcbgp-watcher-peer-secrets",
        "RoleBinding/svcbgp-watcher-peer-secrets",
        "Deployment/svcbgp-watcher",
        "PodDisruptionBudget/svcbgp-watcher",
        "Service/svcbgp-watcher",
        "DaemonSet/svcbgp-speaker",
      ]),
    );
  });

  it("every namespaced object is in svcbgp-system", () => {
    const clusterScoped = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"]);
    const stray = objects
      .filter(({ object }) => !clusterScoped.has(object.kind as string))
      .filter(({ object }) => (object.metadata as Obj).namespace !== "svcbgp-system");
    expect(stray.map(({ object }) => `${object.kind}/${(object.metadata as Obj).name}`)).toEqual([]);
  });

  describe("RBAC is least privilege", () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    const clusterRole = findObject(objects, "ClusterRole", "svcbgp-watcher");
    const rules = clusterRole.rules as Rule[];
    const grants = (group: string, resource: string): string[] =>
      rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs).sort();

    it("no wildcards anywhere", () => {
      const all = objects.filter(({ object }) => object.kind === "ClusterRole" || object.kind === "Role").flatMap(({ object }) => object.rules as Rule[]);
      for (const rule of all) {
        expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain("*");
      }
    });

    it("the watcher reads Services, EndpointSlices, Nodes and the CRDs, cluster-wide, read-only", () => {
      expect(grants("", "services")).toEqual(["get", "list", "watch"]);
      expect(grants("", "nodes")).toEqual(["get", "list", "watch"]);
      expect(grants("discovery.k8s.io", "endpointslices")).toEqual(["get", "list", "watch"]);
      expect(grants("svcbgp.io", "bgpconfigurations")).toEqual(["get", "list", "watch"]);
      expect(grants("svcbgp.io", "bgppeers")).toEqual(["get", "list", "watch"]);
    });

    it("the watcher creates and patches Events, and nothing else is writable", () => {
      expect(grants("", "events")).toEqual(["create", "patch"]);
      expect(grants("events.k8s.io", "events")).toEqual(["create", "patch"]);
      const writes = rules.filter((r) => !r.resources.includes("events")).flatMap((r) => r.verbs).filter((v) => !["get", "list", "watch"].includes(v));
      expect(writes).toEqual([]);
    });

    it("Secrets only through a Role in svcbgp-system, read-only", () => {
      expect(grants("", "secrets")).toEqual([]);
      const role = findObject(objects, "Role", "svcbgp-watcher-peer-secrets");
      expect((role.metadata as Obj).namespace).toBe("svcbgp-system");
      expect(role.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] }]);
      const binding = findObject(objects, "RoleBinding", "svcbgp-watcher-peer-secrets");
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "svcbgp-watcher", namespace: "svcbgp-system" }]);
    });

    it("the speaker has no API access and no token", () => {
      const bound = objects
        .filter(({ object }) => object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding")
        .flatMap(({ object }) => object.subjects as Array<{ name: string }>)
        .map((s) => s.name);
      expect(bound).not.toContain("svcbgp-speaker");
      expect(findObject(objects, "ServiceAccount", "svcbgp-speaker").automountServiceAccountToken).toBe(false);
      expect(podSpec(findObject(objects, "DaemonSet", "svcbgp-speaker"))?.automountServiceAccountToken).toBe(false);
    });
  });

  describe("workloads", () => {
    const watcher = findObject(objects, "Deployment", "svcbgp-watcher");
    const speaker = findObject(objects, "DaemonSet", "svcbgp-speaker");
    const main = (workload: Obj): Container => containersOf(workload)[0];
    const argValue = (c: Container, flag: string): string | undefined => {
      const tokens = [...(c.command ?? []), ...(c.args ?? [])];
      const at = tokens.indexOf(flag);
      if (at >= 0) return tokens[at + 1];
      return tokens.find((t) => t.startsWith(`${flag}=`))?.slice(flag.length + 1);
    };

    it.each([
      ["watcher", watcher],
      ["speaker", speaker],
    ])("%s runs non-root on a read-only root filesystem without capabilities or privilege escalation", (_name, workload) => {
      const spec = podSpec(workload)!;
      const podSecurity = spec.securityContext as Obj;
      expect(podSecurity.runAsNonRoot).toBe(true);
      expect(podSecurity.runAsUser).toBe(65532);
      for (const container of containersOf(workload)) {
        const sc = container.securityContext as Obj;
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(sc.allowPrivilegeEscalation).toBe(false);
        expect((sc.capabilities as Obj).drop).toEqual(["ALL"]);
        expect((sc.capabilities as Obj).add ?? []).toEqual([]);
        expect(sc.privileged ?? false).toBe(false);
        const resources = container.resources as Obj;
        expect(Object.keys(resources.requests as Obj).sort()).toEqual(["cpu", "memory"]);
        expect((resources.limits as Obj).memory).toBeDefined();
      }
    });

    it.each([
      ["watcher", watcher],
      ["speaker", speaker],
    ])("%s probes /livez and /readyz on the port its --http-listen binds", (_name, workload) => {
      const container = main(workload);
      const ports = container.ports as Array<{ name: string; containerPort: number }>;
      const liveness = (container.livenessProbe as Obj).httpGet as Obj;
      const readiness = (container.readinessProbe as Obj).httpGet as Obj;
      expect(liveness.path).toBe("/livez");
      expect(readiness.path).toBe("/readyz");
      for (const probe of [liveness, readiness]) {
        const port = ports.find((p) => p.name === probe.port || p.containerPort === probe.port);
        expect(port, `probe port ${String(probe.port)}`).toBeDefined();
        const listen = argValue(container, "--http-listen");
        expect(listen, "--http-listen must be set: the default binds 127.0.0.1, which kubelet cannot reach").toBeDefined();
        expect(listen).toMatch(new RegExp(`^(0\\.0\\.0\\.0|\\[::\\]):${port!.containerPort}$`));
      }
    });

    it("the watcher: 2 replicas, a PodDisruptionBudget and a gRPC Service that select it", () => {
      const spec = watcher.spec as Obj;
      expect(spec.replicas).toBe(2);
      const labels = ((spec.template as Obj).metadata as Obj).labels as Obj;
      const pdb = findObject(objects, "PodDisruptionBudget", "svcbgp-watcher");
      expect((pdb.spec as Obj).minAvailable).toBe(1);
      expect(((pdb.spec as Obj).selector as Obj).matchLabels).toEqual((spec.selector as Obj).matchLabels);
      const service = findObject(objects, "Service", "svcbgp-watcher");
      for (const [key, value] of Object.entries((service.spec as Obj).selector as Obj)) expect(labels[key]).toBe(value);
      const grpc = ((service.spec as Obj).ports as Obj[]).find((p) => p.port === 50051);
      expect(grpc?.targetPort).toBe("grpc");
      expect(argValue(main(watcher), "--listen")).toBe("0.0.0.0:50051");
      expect(main(watcher).args).toContain("--in-cluster");
    });

    it("the speaker: host network, cluster DNS, NODE_NAME/NODE_IP, every node, one node at a time", () => {
      const spec = podSpec(speaker)!;
      expect(spec.hostNetwork).toBe(true);
      expect(spec.dnsPolicy).toBe("ClusterFirstWithHostNet");
      expect(spec.tolerations).toContainEqual({ operator: "Exists" });
      expect(typeof spec.terminationGracePeriodSeconds).toBe("number");
      expect((speaker.spec as Obj).updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
      const env = main(speaker).env as Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
      expect(env.find((e) => e.name === "NODE_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("spec.nodeName");
      expect(env.find((e) => e.name === "NODE_IP")?.valueFrom?.fieldRef?.fieldPath).toBe("status.hostIP");
      // The gRPC API stays on the node's loopback.
      expect(argValue(main(speaker), "--api-listen")).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);
    });

    it("the speaker dials the watcher's Service by a name in the certificate", () => {
      const target = argValue(main(speaker), "--watcher");
      expect(target).toBe("svcbgp-watcher.svcbgp-system.svc:50051");
      expect(readFileSync(join(ROOT, "scripts/gen-tls.sh"), "utf8")).toContain("DNS:svcbgp-watcher.${namespace}.svc");
    });

    it.each([
      ["watcher", watcher],
      ["speaker", speaker],
    ])("%s uses mTLS from the Secret svcbgp-tls, on by default", (_name, workload) => {
      const spec = podSpec(workload)!;
      const container = main(workload);
      const volume = (spec.volumes as Obj[]).find((v) => isObj(v.secret) && v.secret.secretName === "svcbgp-tls");
      expect(volume).toBeDefined();
      const mount = (container.volumeMounts as Obj[]).find((m) => m.name === volume!.name);
      expect(mount?.readOnly).toBe(true);
      const dir = mount!.mountPath as string;
      expect(argValue(container, "--tls-cert")).toBe(`${dir}/tls.crt`);
      expect(argValue(container, "--tls-key")).toBe(`${dir}/tls.key`);
      expect(argValue(container, "--tls-ca")).toBe(`${dir}/ca.crt`);
    });

    it("the optional listen-port patch adds NET_BIND_SERVICE and nothing else", () => {
      const [patch] = loadYamlDocs(join(ROOT, "deploy/kubernetes/optional/speaker-listen-port-patch.yaml"));
      const container = containersOf(patch.value as Obj)[0];
      expect(container.name).toBe(main(speaker).name);
      expect(container.securityContext).toEqual({ capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } });
    });

    it("workloads run the image the kustomization pins, with the bin as the command", () => {
      const [kustomization] = loadYamlDocs(join(ROOT, "deploy/kubernetes/kustomization.yaml"));
      const images = (kustomization.value as Obj).images as Array<{ name: string }>;
      for (const workload of [watcher, speaker]) {
        const container = main(workload);
        expect(images.map((i) => i.name)).toContain((container.image as string).split(":")[0]);
        expect(container.command?.[0]).toMatch(/^svcbgp(-watcher|-speaker|ctl)$/);
      }
    });
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));

  it("has no syntax directive (the frontend image could not be pulled without a registry)", () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/m);
  });

  it("is multi-stage on node:22-slim and ends as uid 65532", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    const froms = instructions.filter((line) => /^FROM /i.test(line));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
    const users = instructions.filter((line) => /^USER /i.test(line));
    expect(users.at(-1)).toBe("USER 65532:65532");
  });

  it("builds with npm ci + npm run build and installs only production dependencies in the final stage", () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const final = stages.at(-1)!;
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(final).toMatch(/npm ci --omit=dev --workspaces --include-workspace-root/);
    expect(final).not.toMatch(/npm run build/);
    expect(final).not.toMatch(/COPY \. /);
  });

  it("every npm step may use the optional extra-ca secret", () => {
    const npmSteps = instructions.filter((line) => /^RUN .*npm ci/.test(line));
    expect(npmSteps.length).toBe(2);
    for (const step of npmSteps) {
      expect(step).toContain("--mount=type=secret,id=extra-ca,required=false");
      expect(step).toContain("NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca");
    }
  });

  it("puts the three bins on PATH", () => {
    for (const [bin, service] of [
      ["svcbgp-watcher", "watcher"],
      ["svcbgp-speaker", "speaker"],
      ["svcbgpctl", "ctl"],
    ]) {
      expect(dockerfile).toContain(`${bin}:${service}`);
      const pkg = JSON.parse(readFileSync(join(ROOT, "services", service, "package.json"), "utf8")) as { bin: Record<string, string> };
      expect(pkg.bin[bin]).toBe("./dist/main.js");
    }
  });

  it(".dockerignore keeps host builds and node_modules out of the context", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    expect(ignore).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", ".git"]));
  });
});
