/**
 * Many speakers' worth of IntentService.WatchIntent streams in one process:
 * node-0 … node-(N-1), spread over --channels gRPC channels. Reports
 * "connected" once every stream has its first snapshot; after "mark", reports
 * "fanout" once every stream has received an event since the mark (wall
 * times of the first and last such event).
 */
import { createClient, IntentService } from "@svcbgp/api";
import { arg, onCommands, report } from "../lib/child.js";
import { wallNow } from "../lib/stats.js";

const target = arg("target");
const count = Number(arg("nodes"));
const channels = Number(arg("channels", "50"));
const clients = Array.from({ length: channels }, () =>
  createClient(IntentService, target, { channelOptions: { "grpc.max_receive_message_length": 64 * 2 ** 20, "grpc-node.max_session_memory": 1024 } }),
);
const abort = new AbortController();

let connected = 0;
let markedAt: number | undefined;
let sinceMark = 0;
let firstAt = 0;
let lastAt = 0;
const kinds: Record<string, number> = {};
const seenSinceMark = new Uint8Array(count);

async function follow(i: number): Promise<void> {
  let first = true;
  for await (const event of clients[i % channels].watchIntent({ nodeName: `node-${i}` }, { signal: abort.signal })) {
    const at = wallNow();
    if (first) {
      first = false;
      if (++connected === count) report("connected", { at });
    }
    if (markedAt !== undefined && !seenSinceMark[i]) {
      seenSinceMark[i] = 1;
      kinds[event.event.case ?? "none"] = (kinds[event.event.case ?? "none"] ?? 0) + 1;
      if (sinceMark === 0) firstAt = at;
      lastAt = at;
      if (++sinceMark === count) report("fanout", { firstAt, lastAt, kinds });
    }
  }
}

for (let i = 0; i < count; i++) {
  follow(i).catch((err: unknown) => {
    if (!abort.signal.aborted) report("stream-error", { node: i, message: err instanceof Error ? err.message : String(err) });
  });
}

onCommands(
  (command) => {
    if (command.type === "mark") {
      seenSinceMark.fill(0);
      sinceMark = 0;
      for (const key of Object.keys(kinds)) delete kinds[key];
      markedAt = wallNow();
      report("marked", { at: markedAt });
    }
  },
  () => {
    abort.abort();
    for (const client of clients) client.close();
  },
);
