/**
 * Typed grpc-js clients for protobuf-es services: unary methods return
 * promises, server-streaming methods return async iterables.
 */
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { serviceDefinition } from "./service-definition.js";

/** Per-call options. */
export interface CallOptions {
  /** Absolute deadline, or milliseconds from now. */
  deadline?: Date | number;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
  metadata?: grpc.Metadata;
}

type ClientMethodFor<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
    : never;

/** A client with one method per service method, plus the channel controls. */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: ClientMethodFor<S["method"][K]>;
} & {
  /** The underlying grpc-js client, for waitForReady and channel state. */
  readonly raw: grpc.Client;
  close(): void;
};

export interface ClientOptions {
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
}

function deadlineOf(deadline: Date | number | undefined): grpc.Deadline | undefined {
  if (deadline === undefined) return undefined;
  return typeof deadline === "number" ? Date.now() + deadline : deadline;
}

function bindSignal(call: { cancel(): void }, signal: AbortSignal | undefined): void {
  if (!signal) return;
  if (signal.aborted) call.cancel();
  else signal.addEventListener("abort", () => call.cancel(), { once: true });
}

/** Creates a typed client for `service` at `target` ("host:port"). */
export function createClient<S extends DescService>(service: S, target: string, options: ClientOptions = {}): ServiceClient<S> {
  const definition = serviceDefinition(service);
  const Constructor = grpc.makeGenericClientConstructor(definition, service.typeName);
  const raw = new Constructor(target, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const method of service.methods) {
    const path = definition[method.localName].path;
    const serialize = definition[method.localName].requestSerialize;
    const deserialize = definition[method.localName].responseDeserialize;
    if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: MessageInitShape<DescMessage>, opts: CallOptions = {}) => {
        const call = raw.makeServerStreamRequest(path, serialize, deserialize, create(method.input, request), opts.metadata ?? new grpc.Metadata(), {
          deadline: deadlineOf(opts.deadline),
        });
        bindSignal(call, opts.signal);
        return call as AsyncIterable<unknown>;
      };
    } else {
      client[method.localName] = (request: MessageInitShape<DescMessage>, opts: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          const call = raw.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            create(method.input, request),
            opts.metadata ?? new grpc.Metadata(),
            { deadline: deadlineOf(opts.deadline) },
            (err, value) => (err ? reject(err) : resolve(value)),
          );
          bindSignal(call, opts.signal);
        });
    }
  }
  return client as ServiceClient<S>;
}
