/**
 * Connection collisions (RFC 4271 §6.8, RFC 6286 §2.3).
 *
 * Model: one Fsm per TCP connection. `ConnectionPair` owns at most two for a
 * peer: the primary (dials, restarts with backoff, is the peer's long-lived
 * FSM) and a secondary created for an inbound connection that arrives while
 * the primary already has a connection or a dial in progress. When one of them
 * accepts an OPEN while the other is in OpenConfirm (or Established), the pair
 * resolves the collision and dumps the loser with Cease / Connection Collision
 * Resolution. If the secondary wins, it is promoted to primary, so the pair
 * always ends with a single FSM and a single socket.
 *
 * How the session drives it (all actions arrive via the sink, tagged with the
 * FSM id; the session keeps Map<fsmId, socket>):
 * - `start()` / `stop(message)` for the configured peer;
 * - the `Connect` action (always from the primary): dial, bind the socket to
 *   that id, then `handle(id, {type: "Tcp_CR_Acked"})` or `TcpConnectionFails`;
 * - an accepted inbound socket from the peer's address: `const id =
 *   pair.incoming()`; null → close it; otherwise bind it to `id`, then
 *   `pair.handle(id, {type: "TcpConnectionConfirmed"})`;
 * - every decoded message / socket error → `pair.handle(id, event)`;
 * - `DropConnection` for an id → close that socket and forget the binding.
 * `handle` for an unknown id returns false: close that socket.
 */
import type { Clock } from "./clock.js";
import { Fsm } from "./fsm.js";
import { routerIdToNumber } from "./open.js";
import { State, type FsmAction, type FsmConfig, type FsmEvent, type PeerIdentity } from "./types.js";

export type CollisionWinner = "keep-local-initiated" | "keep-remote-initiated";

/**
 * Which connection survives a collision: the one initiated by the speaker
 * with the higher BGP identifier (compared as unsigned 32-bit integers); when
 * the identifiers are equal (possible only on eBGP, RFC 6286), the one
 * initiated by the speaker with the larger AS number. Fully equal identities
 * cannot pass OPEN validation; they keep the locally initiated connection.
 */
export function resolveCollision(local: PeerIdentity, remote: PeerIdentity): CollisionWinner {
  const l = routerIdToNumber(local.routerId);
  const r = routerIdToNumber(remote.routerId);
  if (l !== r) return l > r ? "keep-local-initiated" : "keep-remote-initiated";
  return local.asn >= remote.asn ? "keep-local-initiated" : "keep-remote-initiated";
}

/** Receives every action of every FSM in the pair, tagged with that FSM's id. */
export type PairSink = (fsmId: number, actions: FsmAction[]) => void;

export class ConnectionPair {
  private primaryFsm: Fsm;
  private secondaryFsm: Fsm | null = null;
  /** The primary lost a collision to the secondary: promote once it has reached Idle. */
  private promote = false;
  /** The secondary has had its connection: losing it (Idle, or Active per §8.2.2) retires it. */
  private secondaryWasUp = false;

  constructor(
    private readonly config: FsmConfig,
    private readonly clock: Clock,
    private readonly sink: PairSink,
  ) {
    this.primaryFsm = this.create(config.automaticStart ?? true);
  }

  get primary(): Fsm {
    return this.primaryFsm;
  }

  get secondary(): Fsm | null {
    return this.secondaryFsm;
  }

  /** The FSM whose session is Established, if any. */
  get established(): Fsm | null {
    for (const fsm of this.all()) if (fsm.state === State.Established) return fsm;
    return null;
  }

  get(id: number): Fsm | undefined {
    return this.all().find((fsm) => fsm.id === id);
  }

  start(passive = false): void {
    this.deliver(this.primaryFsm, { type: passive ? "ManualStart_with_PassiveTcpEstablishment" : "ManualStart" });
  }

  stop(shutdownMessage?: string): void {
    const event: FsmEvent = { type: "ManualStop", ...(shutdownMessage !== undefined ? { shutdownMessage } : {}) };
    if (this.secondaryFsm) this.deliver(this.secondaryFsm, event);
    this.deliver(this.primaryFsm, event);
  }

  /**
   * An inbound TCP connection from this peer was accepted. Returns the id of
   * the FSM that takes it (the session then sends TcpConnectionConfirmed to
   * it), or null when it must be refused: the primary is Idle (§8.2.2), or a
   * secondary already exists.
   */
  incoming(): number | null {
    const primary = this.primaryFsm;
    if (primary.state === State.Idle) return null;
    if (primary.state === State.Active && primary.connection === "none") return primary.id;
    if (this.secondaryFsm) return null;
    const secondary = this.create(false);
    this.secondaryFsm = secondary;
    this.secondaryWasUp = false;
    this.deliver(secondary, { type: "ManualStart_with_PassiveTcpEstablishment" });
    return secondary.id;
  }

  /** Feeds an event for one connection. False when no FSM has that id (close that socket). */
  handle(id: number, event: FsmEvent): boolean {
    const fsm = this.get(id);
    if (!fsm) return false;
    this.deliver(fsm, event);
    return true;
  }

  /** Cancels all timers; the pair is unusable afterwards. */
  dispose(): void {
    for (const fsm of this.all()) fsm.dispose();
  }

  private all(): Fsm[] {
    return this.secondaryFsm ? [this.primaryFsm, this.secondaryFsm] : [this.primaryFsm];
  }

  private create(automaticStart: boolean): Fsm {
    const fsm = new Fsm({ ...this.config, automaticStart }, this.clock);
    fsm.setSink((actions) => this.emit(fsm, actions));
    fsm.collisionCheck = (self, remote) => this.collides(self, remote);
    return fsm;
  }

  private deliver(fsm: Fsm, event: FsmEvent): void {
    this.emit(fsm, fsm.handle(event));
  }

  /** Passes actions on, then retires a secondary that went Idle or completes a promotion. */
  private emit(fsm: Fsm, actions: FsmAction[]): void {
    if (actions.length > 0) this.sink(fsm.id, actions);
    if (fsm === this.secondaryFsm) {
      if (fsm.connection === "up") this.secondaryWasUp = true;
      if (fsm.state === State.Idle || (fsm.state === State.Active && this.secondaryWasUp)) {
        fsm.dispose();
        this.secondaryFsm = null;
      }
      return;
    }
    if (fsm.state !== State.Idle) return;
    if (fsm === this.primaryFsm && this.promote && this.secondaryFsm) {
      this.promote = false;
      fsm.dispose();
      this.primaryFsm = this.secondaryFsm;
      this.secondaryFsm = null;
      this.secondaryWasUp = false;
      this.primaryFsm.setAutomaticStart(this.config.automaticStart ?? true);
    }
  }

  /** The Established secondary becomes the primary; the old primary retires as the secondary once Idle. */
  private swap(): void {
    const winner = this.secondaryFsm!;
    this.secondaryFsm = this.primaryFsm;
    this.primaryFsm = winner;
    this.secondaryWasUp = true;
    this.promote = false;
    winner.setAutomaticStart(this.config.automaticStart ?? true);
  }

  /**
   * Called by `self` on a valid OPEN. Returns true if `self` loses; if the
   * sibling loses, dumps it here (its actions reach the sink first).
   */
  private collides(self: Fsm, remote: PeerIdentity): boolean {
    const other = self === this.primaryFsm ? this.secondaryFsm : this.primaryFsm;
    if (!other) return false;
    let dumpSelf: boolean;
    if (other.state === State.Established) {
      // §6.8 keeps the Established session. RFC 4724 §4.2: a peer that supports
      // graceful restart and opens a new session has restarted; the old one is dead.
      // Only a connection the peer opened says that: our own dial, still in flight
      // when the peer's connection came up, is a plain collision and loses.
      dumpSelf = self.locallyInitiated || other.negotiated?.peerGracefulRestart == null;
    } else if (other.state === State.OpenConfirm) {
      if (self.locallyInitiated === other.locallyInitiated) {
        dumpSelf = true; // cannot tell them apart: keep the older one
      } else {
        const winner = resolveCollision({ routerId: this.config.routerId, asn: this.config.localAsn }, remote);
        const keepLocal = winner === "keep-local-initiated";
        dumpSelf = self.locallyInitiated !== keepLocal;
      }
    } else {
      return false; // the other has not seen an OPEN yet: it will check when it does
    }
    const loser = dumpSelf ? self : other;
    if (loser === this.primaryFsm) {
      // The session already lives on an Established secondary: make it the primary now, so
      // the loser's fall to Idle is a retiring secondary's, not the session going down.
      if (this.secondaryFsm?.state === State.Established) this.swap();
      else this.promote = true;
    }
    if (!dumpSelf) this.deliver(other, { type: "OpenCollisionDump" });
    return dumpSelf;
  }
}
