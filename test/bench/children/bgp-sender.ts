/**
 * A svcbgp BGP session that announces N routes to a peer, then withdraws
 * them on command. Reports (wall-clock ms): "ready" once loaded,
 * "started" when the routes were handed to the session and it was started
 * (command "start"), or "announcing" when they were handed to an already
 * established session ("connect", then "announce"); "established",
 * "withdrawing".
 */
import { createBgpSession, type OutRoute } from "@svcbgp/bgp";
import { arg, onCommands, report } from "../lib/child.js";
import { hostPrefix } from "../lib/prefixes.js";
import { wallNow } from "../lib/stats.js";

const count = Number(arg("count"));
const routes: OutRoute[] = Array.from({ length: count }, (_, i) => ({ prefix: hostPrefix(i) }));
const session = createBgpSession({
  peerAddress: arg("peer"),
  peerPort: Number(arg("peer-port")),
  localAddress: arg("local"),
  routerId: arg("local"),
  localAsn: Number(arg("asn")),
  peerAsn: Number(arg("peer-asn")),
  connectRetryTime: 1,
  holdTime: 90,
});
session.on((event) => {
  if (event.type === "state" && event.to === "Established") report("established", { at: wallNow() });
  if (event.type === "state" && event.from === "Established") report("down", { at: wallNow(), reason: event.reason ?? "" });
}, { routes: false });

onCommands(
  (command) => {
    if (command.type === "start") {
      // Routes first, then the session: timed from start() (connection set-up included).
      const at = wallNow();
      session.updateRoutes(routes, []);
      session.start();
      report("started", { at });
    } else if (command.type === "connect") {
      // The session first, then the routes (command "announce"): the table transfer alone.
      session.start();
    } else if (command.type === "announce") {
      const at = wallNow();
      session.updateRoutes(routes, []);
      report("announcing", { at, busyMs: wallNow() - at });
    } else if (command.type === "withdraw") {
      const prefixes = routes.map((r) => r.prefix);
      const at = wallNow();
      session.updateRoutes([], prefixes);
      report("withdrawing", { at, busyMs: wallNow() - at, sent: session.status().sent.updates });
    }
  },
  () => session.stop("admin-shutdown"),
);
report("ready", { at: wallNow() });
