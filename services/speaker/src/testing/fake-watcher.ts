/** An IntentService for tests: serves a snapshot, then whatever the test pushes. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { IntentService, NodeIntentSchema, registration, serve, type NodeIntent, type RunningServer, type WatchIntentResponseSchema } from "@svcbgp/api";

type Response = MessageInitShape<typeof WatchIntentResponseSchema>;

class Stream {
  private queue: Response[] = [];
  private wake: (() => void) | undefined;
  ended = false;

  push(r: Response): void {
    this.queue.push(r);
    this.wake?.();
  }

  async *drain(signal: AbortSignal): AsyncGenerator<Response> {
    while (!signal.aborted) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }
}

export class FakeWatcher {
  server: RunningServer | undefined;
  readonly streams: Stream[] = [];
  readonly requests: string[] = [];

  constructor(
    public snapshot: NodeIntent,
    public revision: bigint,
  ) {}

  static intent(init: MessageInitShape<typeof NodeIntentSchema>): NodeIntent {
    return create(NodeIntentSchema, init);
  }

  async start(listen = "127.0.0.1:0"): Promise<string> {
    const streams = this.streams;
    const requests = this.requests;
    const current = () => ({ revision: this.revision, snapshot: this.snapshot });
    this.server = await serve(listen, [
      registration(IntentService, {
        watchIntent: async function* (req, ctx) {
          requests.push(req.nodeName);
          const stream = new Stream();
          streams.push(stream);
          const { revision, snapshot } = current();
          yield { revision, event: { case: "snapshot", value: snapshot } };
          yield* stream.drain(ctx.signal);
        },
        getIntent: () => ({ revision: current().revision, intent: current().snapshot }),
        listNodes: () => ({ nodes: [] }),
        explainService: () => ({ found: false }),
      }),
    ]);
    return this.server.address;
  }

  /** Sends to the newest stream. */
  push(response: Response): void {
    this.streams.at(-1)!.push(response);
  }

  async stop(): Promise<void> {
    await this.server?.close(0);
    this.server = undefined;
  }
}
