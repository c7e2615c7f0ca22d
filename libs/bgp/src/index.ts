export * from "./codec/index.js";
export * from "./fsm/index.js";
export * from "./rib/index.js";
export * from "./session/index.js";
