/**
 * The synthetic cluster (lib/cluster.ts) as a directory of YAML manifests, for
 * the watcher's `--manifests DIR` source, laid out the way a user keeping
 * their cluster in files plausibly would: one file per application, holding
 * its Service and its EndpointSlice (`services/svc-<i>.yaml`, two documents),
 * and one `cluster.yaml` with the BGPConfiguration, the BGPPeer and the Nodes.
 *
 * A change rewrites one application's file the way editors and `kubectl`
 * do: the new text goes to a hidden temporary file in the same directory
 * (the source skips dot-files), which is then renamed over the old one.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import type { KubeObject } from "../../../services/watcher/src/sources/source.js";
import { makeConfig, makeNode, makePeer, makeService, makeSlice, type ClusterOptions, type ClusterSize } from "./cluster.js";

export interface ManifestsDir {
  dir: string;
  /** Files written (cluster.yaml + one per Service). */
  files: number;
  /** The file holding Service i and its EndpointSlice. */
  serviceFile(i: number): string;
}

export function manifestText(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Service i's file: the Service, then its EndpointSlice (`slice` replaces the default one). */
export function serviceManifest(i: number, size: ClusterSize, slice?: KubeObject): string {
  return manifestText([makeService(i), slice ?? makeSlice(i, size)]);
}

export async function writeClusterManifests(size: ClusterSize, options: ClusterOptions = {}): Promise<ManifestsDir> {
  const dir = mkdtempSync(join(tmpdir(), "svcbgp-bench-manifests-"));
  mkdirSync(join(dir, "services"));
  const cluster: KubeObject[] = [makeConfig(), options.peer ?? makePeer()];
  for (let i = 0; i < size.nodes; i++) cluster.push(makeNode(i, options.nodeIps?.[i]));
  await writeFile(join(dir, "cluster.yaml"), manifestText(cluster));
  const serviceFile = (i: number) => join(dir, "services", `svc-${i}.yaml`);
  // A few hundred writes in flight at a time.
  for (let start = 0; start < size.services; start += 256) {
    const batch: Array<Promise<void>> = [];
    for (let i = start; i < Math.min(size.services, start + 256); i++) batch.push(writeFile(serviceFile(i), serviceManifest(i, size)));
    await Promise.all(batch);
  }
  return { dir, files: size.services + 1, serviceFile };
}

let tmpCounter = 0;

/** Replaces `file`'s contents atomically: write a hidden temporary file next to it, rename it over. */
export async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${process.pid}-${tmpCounter++}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}
