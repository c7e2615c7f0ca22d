/** The standard grpc.health.v1 service; "" is the whole server. */
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

export type ServingStatus = "SERVING" | "NOT_SERVING";

export interface Health {
  set(service: string, status: ServingStatus): void;
}

export function addHealth(server: grpc.Server, serviceNames: string[], initial: ServingStatus = "SERVING"): Health {
  const statuses: Record<string, ServingStatus> = { "": initial };
  for (const name of serviceNames) statuses[name] = initial;
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  return { set: (service, status) => health.setStatus(service, status) };
}
