/**
 * The speaker's Prometheus metrics. Per-peer values are read from the
 * sessions at scrape time, so a removed peer's series disappear with it.
 */
import { Counter, Gauge, Registry, collectProcessMetrics } from "@svcbgp/telemetry";
import { sessionState } from "./api/convert.js";
import type { SpeakerController } from "./controller.js";

export interface LinkView {
  watcherLinkUp(): boolean;
}

export class SpeakerMetrics {
  readonly registry = new Registry();
  readonly intentRejected: Counter<string>;
  readonly watcherReconnects: Counter<string>;

  /** `link` is given in watcher mode only (intent-file mode has no watcher_link_up series). */
  constructor(controller: SpeakerController, link: LinkView | undefined, now: () => number = Date.now) {
    const registers = [this.registry];
    collectProcessMetrics(this.registry, "svcbgp_speaker_");
    const perPeer = (name: string, help: string, read: (p: ReturnType<SpeakerController["peers"]>[number]) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["peer"],
        registers,
        collect() {
          this.reset();
          for (const m of controller.peers()) {
            const value = read(m);
            if (value !== undefined) this.set({ peer: m.key }, value);
          }
        },
      });
    perPeer(
      "svcbgp_speaker_peer_session_state",
      "BGP FSM state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established (0 = refused, no session).",
      (m) => (m.session ? sessionState(m.session.status().state) : 0),
    );
    perPeer("svcbgp_speaker_peer_established", "1 when the session is Established.", (m) => (m.session?.status().state === "Established" ? 1 : 0));
    perPeer("svcbgp_speaker_peer_updates_sent", "UPDATE messages sent on the current session (resets when the session restarts).", (m) => m.session?.status().sent.updates);
    perPeer("svcbgp_speaker_peer_updates_received", "UPDATE messages received on the current session.", (m) => m.session?.status().received.updates);
    perPeer("svcbgp_speaker_peer_prefixes_sent", "Prefixes currently advertised to the peer.", (m) => m.session?.status().prefixesSent);
    perPeer("svcbgp_speaker_peer_prefixes_received", "Prefixes currently accepted from the peer.", (m) => m.session?.status().prefixesReceived);
    new Gauge({
      name: "svcbgp_speaker_intent_revision",
      help: "Revision of the applied intent (0 = none yet).",
      registers,
      collect() {
        this.set(Number(controller.revision));
      },
    });
    new Gauge({
      name: "svcbgp_speaker_intent_age_seconds",
      help: "Seconds since the intent was last updated (0 before the first intent; see svcbgp_speaker_intent_revision).",
      registers,
      collect() {
        const at = controller.store.updatedAt;
        this.set(at === undefined ? 0 : (now() - at) / 1000);
      },
    });
    new Gauge({
      name: "svcbgp_speaker_intent_routes",
      help: "Routes in the intent.",
      registers,
      collect() {
        this.set(controller.intentRoutes().length);
      },
    });
    new Gauge({
      name: "svcbgp_speaker_intent_stale",
      help: "1 while routes are withdrawn because the watcher has been unreachable for longer than --stale-intent-timeout.",
      registers,
      collect() {
        this.set(controller.isStale ? 1 : 0);
      },
    });
    if (link) {
      new Gauge({
        name: "svcbgp_speaker_watcher_link_up",
        help: "1 while the WatchIntent stream is connected (absent in intent-file mode).",
        registers,
        collect() {
          this.set(link.watcherLinkUp() ? 1 : 0);
        },
      });
    }
    this.intentRejected = new Counter({ name: "svcbgp_speaker_intent_rejected_total", help: "Intents (files, snapshots) rejected as invalid.", registers });
    this.watcherReconnects = new Counter({ name: "svcbgp_speaker_watcher_reconnects_total", help: "Attempts to re-open the WatchIntent stream (after a failure or to resync).", registers });
  }
}
