export {};
export * from "./codec/index.js";
export * from "./fsm/index.js";
export * from "./rib/index.js";
