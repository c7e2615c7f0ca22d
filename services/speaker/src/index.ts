export { startSpeaker, DEFAULT_API_LISTEN, DEFAULT_HTTP_LISTEN, type RunningSpeaker, type SpeakerConfig, type SpeakerDeps } from "./speaker.js";
export { SpeakerController, type IntentSink } from "./controller.js";
export { IntentStore, type IntentChange } from "./intent/store.js";
export { validateIntent, type IntentIssue } from "./intent/validate.js";
export { parseIntentText } from "./intent/parse.js";
export type { SessionFactory } from "./peers/reconciler.js";
