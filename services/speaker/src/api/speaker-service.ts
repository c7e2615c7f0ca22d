/** SpeakerService: the speaker's read-only gRPC API over its peers, RIBs and events. */
import * as grpc from "@grpc/grpc-js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { AddressFamily, GrpcError, RibTable, SpeakerService, type Route, type ServiceImpl, type WatchEventsResponseSchema } from "@svcbgp/api";
import { cidrCovers, hostCidr, parseCidrStrict, parseIp, type Cidr } from "@svcbgp/config";
import { prefixFamily, type ManagedPeer } from "../peers/reconciler.js";
import { intentRibRoute, peerStatus, ribRoute, type RibRouteInit } from "./convert.js";
import type { EventBus } from "./event-bus.js";

export type SpeakerEvent = MessageInitShape<typeof WatchEventsResponseSchema>;

/** What the API reads. */
export interface SpeakerView {
  peers(): ManagedPeer[];
  intentRoutes(): Route[];
}

export const DEFAULT_BATCH_SIZE = 500;

function routeFilter(prefix: string, family: AddressFamily): (p: string) => boolean {
  let within: Cidr | undefined;
  if (prefix) {
    // A bare address means its host route.
    const ip = parseIp(prefix);
    const parsed = ip ? { ok: true as const, cidr: hostCidr(ip) } : parseCidrStrict(prefix);
    if (!parsed.ok) throw new GrpcError(grpc.status.INVALID_ARGUMENT, `prefix ${parsed.reason}`);
    within = parsed.cidr;
  }
  const wantFamily = family === AddressFamily.IPV4 ? 4 : family === AddressFamily.IPV6 ? 6 : undefined;
  return (p) => {
    if (wantFamily && prefixFamily(p) !== wantFamily) return false;
    if (!within) return true;
    return cidrCovers(within, p);
  };
}

function matchesPeer(m: ManagedPeer, wanted: string): boolean {
  const ip = parseIp(wanted);
  return m.key === wanted || (ip !== undefined && m.options?.peerAddress === ip.text) || m.peer.address === wanted || m.peer.name === wanted;
}

export function speakerServiceImpl(view: SpeakerView, events: EventBus<SpeakerEvent>, batchSize = DEFAULT_BATCH_SIZE): ServiceImpl<typeof SpeakerService> {
  return {
    listPeers: () => ({ peers: view.peers().map(peerStatus) }),

    listRoutes: async function* (request) {
      const keep = routeFilter(request.prefix, request.family);
      let batch: RibRouteInit[] = [];
      const table = request.table === RibTable.UNSPECIFIED ? RibTable.INTENT : request.table;
      if (table === RibTable.INTENT) {
        for (const route of view.intentRoutes()) {
          if (!keep(route.prefix)) continue;
          batch.push(intentRibRoute(route));
          if (batch.length >= batchSize) {
            yield { routes: batch };
            batch = [];
          }
        }
      } else {
        let peers = view.peers();
        if (request.peer) {
          peers = peers.filter((m) => matchesPeer(m, request.peer));
          if (peers.length === 0) throw new GrpcError(grpc.status.NOT_FOUND, `no peer ${request.peer} in the intent`);
        }
        for (const m of peers) {
          if (!m.session) continue;
          const address = m.options?.peerAddress ?? m.peer.address;
          const entries = table === RibTable.ADJ_IN ? m.session.adjRibIn() : m.session.adjRibOut();
          for (const entry of entries) {
            if (!keep(entry.prefix)) continue;
            batch.push(ribRoute(table, address, entry));
            if (batch.length >= batchSize) {
              yield { routes: batch };
              batch = [];
            }
          }
        }
      }
      if (batch.length) yield { routes: batch };
    },

    watchEvents: async function* (_request, context) {
      yield* events.subscribe(context.signal);
    },
  };
}
