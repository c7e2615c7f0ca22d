/**
 * `kubectl kustomize deploy/kubernetes` renders, and renders what
 * deploy/kubernetes/kustomization.yaml lists, with the image it pins. kubectl
 * 1.20 (Debian's kubernetes-client, kustomize v2) and newer both work.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ROOT, containersOf, isObj, kustomizeResources, toolAvailable, type Obj } from "./support.js";

const available = toolAvailable("kubectl kustomize", "kubectl", "apt-get install kubernetes-client");

describe.runIf(available)("kubectl kustomize deploy/kubernetes", () => {
  const rendered = (): Obj[] => {
    const out = execFileSync("kubectl", ["kustomize", "deploy/kubernetes"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    return parseAllDocuments(out).map((doc) => doc.toJS() as unknown).filter(isObj);
  };

  it("renders every listed resource, and nothing else", () => {
    const key = (o: Obj) => `${String(o.kind)}/${String((o.metadata as Obj | undefined)?.namespace ?? "")}/${String((o.metadata as Obj | undefined)?.name)}`;
    const objects = rendered();
    expect(objects.map(key).sort()).toEqual(kustomizeResources().map(({ object }) => key(object)).sort());
  });

  it("the workloads run the pinned image", () => {
    const workloads = rendered().filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet");
    expect(workloads.length).toBe(2);
    for (const workload of workloads) {
      for (const container of containersOf(workload)) expect(container.image).toBe("svcbgp:0.1.0");
    }
  });
});
