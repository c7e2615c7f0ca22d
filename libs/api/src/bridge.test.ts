import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { service as healthServiceDefinition } from "grpc-health-check";
import { create } from "@bufbuild/protobuf";
import {
  IntentService,
  NodeIntentSchema,
  RibTable,
  SpeakerService,
  createClient,
  GrpcError,
  registration,
  serve,
  type RunningServer,
  type ServiceClient,
} from "./index.js";

const STREAMED_BATCHES = 5;

/** Records what the streaming handler saw, so cancellation can be asserted server-side. */
const streamLog = { started: 0, finished: 0, aborted: 0 };

let server: RunningServer;
let intents: ServiceClient<typeof IntentService>;
let speaker: ServiceClient<typeof SpeakerService>;

beforeAll(async () => {
  server = await serve("127.0.0.1:0", [
    registration(IntentService, {
      getIntent: (req) => {
        if (req.nodeName === "missing") throw new GrpcError(grpc.status.NOT_FOUND, "no such node");
        return { revision: 7n, intent: create(NodeIntentSchema, { nodeName: req.nodeName, localAsn: 64512, routes: [{ prefix: "10.49.0.0/16" }] }) };
      },
      listNodes: () => new Promise(() => {}), // never answers: exercises deadlines
      explainService: () => ({ found: false }),
      watchIntent: async function* (req, ctx) {
        streamLog.started++;
        try {
          for (let revision = 1n; ; revision++) {
            yield { revision, event: { case: "snapshot", value: { nodeName: req.nodeName } } };
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (ctx.signal.aborted) break;
          }
        } finally {
          if (ctx.signal.aborted) streamLog.aborted++;
          streamLog.finished++;
        }
      },
    }),
    registration(SpeakerService, {
      listPeers: () => ({ peers: [{ address: "192.0.2.1", asn: 64512 }] }),
      listRoutes: async function* (req) {
        for (let i = 0; i < STREAMED_BATCHES; i++) {
          yield { routes: [{ table: req.table, prefix: `10.0.${i}.0/24` }] };
        }
      },
      watchEvents: async function* () {},
    }),
  ]);
  intents = createClient(IntentService, server.address);
  speaker = createClient(SpeakerService, server.address);
});

afterAll(async () => {
  intents?.close();
  speaker?.close();
  await server?.close();
});

describe("grpc-js bridge", () => {
  it("round-trips a unary call with protobuf-es messages", async () => {
    const response = await intents.getIntent({ nodeName: "node-1" });
    expect(response.revision).toBe(7n);
    expect(response.intent?.nodeName).toBe("node-1");
    expect(response.intent?.localAsn).toBe(64512);
    expect(response.intent?.routes.map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
  });

  it("maps a GrpcError to its status code", async () => {
    await expect(intents.getIntent({ nodeName: "missing" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such node" });
  });

  it("streams every message of a server-streaming call in order", async () => {
    const prefixes: string[] = [];
    for await (const batch of speaker.listRoutes({ table: RibTable.ADJ_OUT })) {
      expect(batch.routes[0].table).toBe(RibTable.ADJ_OUT);
      prefixes.push(...batch.routes.map((r) => r.prefix));
    }
    expect(prefixes).toEqual(Array.from({ length: STREAMED_BATCHES }, (_, i) => `10.0.${i}.0/24`));
  });

  it("fails a call that outlives its deadline with DEADLINE_EXCEEDED", async () => {
    await expect(intents.listNodes({}, { deadline: 100 })).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });

  it("stops the server-side handler when the client cancels a stream", async () => {
    const before = { ...streamLog };
    const controller = new AbortController();
    const received: bigint[] = [];
    await expect(
      (async () => {
        for await (const event of intents.watchIntent({ nodeName: "node-1" }, { signal: controller.signal })) {
          received.push(event.revision);
          if (received.length === 3) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    expect(received).toEqual([1n, 2n, 3n]);
    await waitUntil(() => streamLog.finished > before.finished);
    expect(streamLog.started).toBe(before.started + 1);
    expect(streamLog.aborted).toBe(before.aborted + 1);
  });
});

describe("reflection and health", () => {
  it("lists our services through grpc.reflection.v1", async () => {
    const require = createRequire(import.meta.url);
    const protoPath = require.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
    const definition = protoLoader.loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (target: string, creds: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const client = new loaded.grpc.reflection.v1.ServerReflection(server.address, grpc.credentials.createInsecure()) as grpc.Client & {
      ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: Array<{ name: string }> }; file_descriptor_response?: { file_descriptor_proto: Buffer[] } }>;
    };
    const ask = (request: object) =>
      new Promise<{ list_services_response?: { service: Array<{ name: string }> }; file_descriptor_response?: { file_descriptor_proto: Buffer[] } }>((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on("data", (response) => {
          resolve(response);
          call.end();
        });
        call.on("error", reject);
        call.write(request);
      });
    const listed = await ask({ list_services: "*" });
    expect(listed.list_services_response?.service.map((s) => s.name).sort()).toEqual(["svcbgp.v1.IntentService", "svcbgp.v1.SpeakerService"]);
    const files = await ask({ file_containing_symbol: "svcbgp.v1.SpeakerService" });
    expect(files.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
    client.close();
  });

  it("answers SERVING on grpc.health.v1 for the server and each service", async () => {
    const Health = grpc.makeGenericClientConstructor(healthServiceDefinition, "grpc.health.v1.Health");
    const client = new Health(server.address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(request: { service: string }, callback: (err: grpc.ServiceError | null, response: { status: string | number }) => void): void;
    };
    const check = (service: string) =>
      new Promise<string | number>((resolve, reject) => client.check({ service }, (err, response) => (err ? reject(err) : resolve(response.status))));
    for (const name of ["", "svcbgp.v1.IntentService", "svcbgp.v1.SpeakerService"]) {
      expect(["SERVING", 1]).toContain(await check(name));
    }
    server.health.set("svcbgp.v1.IntentService", "NOT_SERVING");
    expect(["NOT_SERVING", 2]).toContain(await check("svcbgp.v1.IntentService"));
    await expect(check("no.such.Service")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    client.close();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
