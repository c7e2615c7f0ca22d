/**
 * IntentService: what the speakers and svcbgpctl ask the watcher. Any replica
 * can answer any speaker: intents are a pure function of cluster state.
 */
import * as grpc from "@grpc/grpc-js";
import { GrpcError, IntentService, type ExplainServiceResponse, type ServiceImpl } from "@svcbgp/api";
import type { IntentHub } from "../intents/intent-hub.js";

export interface Explainer {
  explain(namespace: string, name: string): ExplainServiceResponse;
}

export interface IntentServiceHooks {
  /** Called when a speaker starts or stops following a node (for logs and metrics). */
  onWatch?(nodeName: string, peer: string, watching: boolean): void;
}

/** Every call but WatchIntent (which waits) answers UNAVAILABLE until the hub is ready: partial answers would mislead. */
export function intentServiceImpl(hub: IntentHub, explainer: Explainer, hooks: IntentServiceHooks = {}): ServiceImpl<typeof IntentService> {
  return {
    async *watchIntent(request, context) {
      if (!request.nodeName) throw new GrpcError(grpc.status.INVALID_ARGUMENT, "node_name is required");
      hooks.onWatch?.(request.nodeName, context.peer, true);
      try {
        yield* hub.watch(request.nodeName, context.signal);
      } finally {
        hooks.onWatch?.(request.nodeName, context.peer, false);
      }
    },
    getIntent(request) {
      if (!hub.isReady) throw new GrpcError(grpc.status.UNAVAILABLE, "the watcher has not synced with its sources yet");
      const current = hub.get(request.nodeName);
      if (!current) throw new GrpcError(grpc.status.NOT_FOUND, `no intent for node ${request.nodeName}: the watcher does not know this node`);
      return current;
    },
    listNodes() {
      if (!hub.isReady) throw new GrpcError(grpc.status.UNAVAILABLE, "the watcher has not synced with its sources yet");
      return { nodes: hub.list() };
    },
    explainService(request) {
      if (!request.namespace || !request.name) throw new GrpcError(grpc.status.INVALID_ARGUMENT, "namespace and name are required");
      if (!hub.isReady) throw new GrpcError(grpc.status.UNAVAILABLE, "the watcher has not synced with its sources yet");
      return explainer.explain(request.namespace, request.name);
    },
  };
}
