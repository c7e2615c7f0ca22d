/**
 * Typed grpc-js handlers for protobuf-es services. Unary handlers return (or
 * resolve to) the response; server-streaming handlers are async iterables that
 * are written with backpressure and stopped when the client cancels.
 */
import * as grpc from "@grpc/grpc-js";
import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { serviceDefinition } from "./service-definition.js";
import { toServiceError } from "./errors.js";

/** What a handler knows about its call. */
export interface CallContext {
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  readonly signal: AbortSignal;
  readonly metadata: grpc.Metadata;
  readonly peer: string;
}


type HandlerFor<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, context: CallContext) => MessageInitShape<O> | Promise<MessageInitShape<O>>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageShape<I>, context: CallContext) => AsyncIterable<MessageInitShape<O>>
    : never;

/** An implementation of every method of a service. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: HandlerFor<S["method"][K]>;
};

function callContext(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): CallContext {
  const controller = new AbortController();
  call.on("cancelled", () => controller.abort());
  return { signal: controller.signal, metadata: call.metadata, peer: call.getPeer() };
}

function writeWithBackpressure(call: grpc.ServerWritableStream<unknown, unknown>, value: unknown, signal: AbortSignal): Promise<void> {
  if (call.write(value)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.on("drain", done);
    signal.addEventListener("abort", done);
  });
}

async function runStream(
  handler: (request: unknown, context: CallContext) => AsyncIterable<unknown>,
  call: grpc.ServerWritableStream<unknown, unknown>,
): Promise<void> {
  const context = callContext(call);
  const iterator = handler(call.request, context)[Symbol.asyncIterator]();
  // Waking the iterator on cancel lets a handler blocked on "next change" finish promptly.
  const stop = () => void iterator.return?.();
  context.signal.addEventListener("abort", stop);
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || context.signal.aborted) break;
      await writeWithBackpressure(call, next.value, context.signal);
    }
    if (!context.signal.aborted) call.end();
  } catch (err) {
    if (!context.signal.aborted) call.emit("error", toServiceError(err));
  } finally {
    context.signal.removeEventListener("abort", stop);
  }
}

function grpcHandlers(service: DescService, impl: Record<string, unknown>): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = impl[method.localName] as ((request: unknown, context: CallContext) => unknown) | undefined;
    if (typeof handler !== "function") throw new Error(`${service.typeName}.${method.name} has no handler`);
    if (method.methodKind === "server_streaming") {
      handlers[method.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) =>
        void runStream(handler as (request: unknown, context: CallContext) => AsyncIterable<unknown>, call);
    } else {
      handlers[method.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => handler(call.request, callContext(call)))
          .then(
            (response) => callback(null, response),
            (err) => callback(toServiceError(err)),
          );
      };
    }
  }
  return handlers;
}

/** Registers a protobuf-es service implementation on a grpc-js server. */
export function addService<S extends DescService>(server: grpc.Server, service: S, impl: ServiceImpl<S>): void {
  server.addService(serviceDefinition(service), grpcHandlers(service, impl as Record<string, unknown>));
}


