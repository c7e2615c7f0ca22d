/**
 * Makes refusals visible: a Service IP outside the allowed ranges, a bad
 * annotation, a rejected BGPConfiguration or BGPPeer, a peer password that
 * cannot be read. Each is logged (resource, field, reason — never a secret
 * value: reasons name Secrets, not their contents) and, in cluster mode,
 * recorded as a Kubernetes Event on the object concerned.
 */
import { formatIssue, type ConfigIssueRecord } from "@svcbgp/config";
import type { Logger } from "@svcbgp/telemetry";
import type { ServiceRejection } from "./engine/service-routes.js";
import type { EventType } from "./sources/kubernetes.js";
import type { KubeObject } from "./sources/source.js";

/** KubernetesSource implements it. */
export interface EventPoster {
  postEvent(object: KubeObject, reason: string, message: string, type?: EventType): Promise<boolean>;
}

export interface ObjectLookup {
  /** The Service "namespace/name" as last received. */
  service(key: string): KubeObject | undefined;
  /** A config resource by the name issues give it: "BGPPeer/name", "BGPConfiguration/default". */
  config(resource: string): KubeObject | undefined;
}

/** Event reasons (CamelCase, as Kubernetes components write them). */
export const EVENT_REASONS = {
  ipNotAllowed: "IPNotAllowed",
  invalidIP: "InvalidIP",
  invalidAnnotation: "InvalidAnnotation",
  invalidConfig: "InvalidConfiguration",
  peerPassword: "PeerPasswordUnavailable",
} as const;

export function rejectionReason(rejection: ServiceRejection): string {
  if (!rejection.ip) return EVENT_REASONS.invalidAnnotation;
  if (/is not an IP address/.test(rejection.reason)) return EVENT_REASONS.invalidIP;
  return EVENT_REASONS.ipNotAllowed;
}

export function rejectionMessage(rejection: ServiceRejection): string {
  return rejection.ip ? `${rejection.ip} (${rejection.field}) is not advertised: ${rejection.reason}` : `${rejection.field}: ${rejection.reason}`;
}

export function issueReason(issue: ConfigIssueRecord): string {
  return issue.field.startsWith("spec.password") ? EVENT_REASONS.peerPassword : EVENT_REASONS.invalidConfig;
}

export interface ProblemReporterOptions {
  logger: Logger;
  lookup: ObjectLookup;
  /** Where Events go; none in manifests mode. */
  poster?: EventPoster;
  /** Called once per Event attempt: posted, or not (a duplicate within the dedupe period, or the API refused; the source logs why). */
  onEvent?(reason: string, result: "posted" | "not_posted"): void;
}

export class ProblemReporter {
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly options: ProblemReporterOptions) {}

  /** Services whose rejections changed, each with its complete new list (empty: all cleared). */
  rejections(changed: ReadonlyMap<string, readonly ServiceRejection[]>): void {
    for (const [service, list] of changed) {
      if (list.length === 0) {
        this.options.logger.info({ service }, "service addresses no longer refused");
        continue;
      }
      const object = this.options.lookup.service(service);
      for (const rejection of list) {
        const reason = rejectionReason(rejection);
        this.options.logger.warn(
          { resource: `Service/${service}`, field: rejection.field, ip: rejection.ip || undefined, reason: rejection.reason, event: reason },
          rejection.ip ? "service address not advertised" : "service annotation ignored",
        );
        if (object) this.post(object, reason, rejectionMessage(rejection));
      }
    }
  }

  /** Config issues just raised (a resource rejected, a password Secret missing). */
  issues(issues: readonly ConfigIssueRecord[]): void {
    for (const issue of issues) {
      const reason = issueReason(issue);
      this.options.logger.warn(
        { resource: issue.resource, field: issue.field, reason: issue.reason, event: reason },
        reason === EVENT_REASONS.peerPassword ? "peer not configured: its password is unavailable" : "config resource rejected; the last valid version stays in force",
      );
      const object = this.options.lookup.config(issue.resource);
      if (object) this.post(object, reason, formatIssue(issue));
    }
  }

  /** Waits for Events being posted (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private post(object: KubeObject, reason: string, message: string): void {
    const poster = this.options.poster;
    if (!poster) return;
    const attempt = poster.postEvent(object, reason, message, "Warning").then(
      (posted) => this.options.onEvent?.(reason, posted ? "posted" : "not_posted"),
      () => this.options.onEvent?.(reason, "not_posted"),
    );
    this.inflight.add(attempt);
    void attempt.finally(() => this.inflight.delete(attempt));
  }
}
