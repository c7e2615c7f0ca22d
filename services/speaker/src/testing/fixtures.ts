/** Shared test fixtures. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { IntentDeltaSchema, NodeIntentSchema, type IntentDelta, type NodeIntent } from "@svcbgp/api";
import { createLogger, type Logger } from "@svcbgp/telemetry";

export function intent(init: MessageInitShape<typeof NodeIntentSchema> = {}): NodeIntent {
  return create(NodeIntentSchema, { nodeName: "node-1", routerId: "192.0.2.10", localAsn: 64512, ...init });
}

export function delta(init: MessageInitShape<typeof IntentDeltaSchema>): IntentDelta {
  return create(IntentDeltaSchema, init);
}

export function quietLogger(): Logger {
  return createLogger({ name: "test", level: process.env.TEST_LOG_LEVEL ?? "silent" });
}
