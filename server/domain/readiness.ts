/** Something the server needs before it can serve (the database, later the bus). */
export interface Dependency {
  name: string;
  ping(): Promise<void>;
}

export type Readiness = { ready: true } | { ready: false; reason: "draining" | "dependency_down" };

/**
 * Whether this node should receive traffic: not while it drains for shutdown, nor while
 * a dependency does not answer (a load balancer then sends requests to other nodes).
 */
export function readinessService(deps: Dependency[], isDraining: () => boolean) {
  return {
    async check(): Promise<Readiness> {
      if (isDraining()) return { ready: false, reason: "draining" };
      try {
        await Promise.all(deps.map((d) => d.ping()));
        return { ready: true };
      } catch {
        return { ready: false, reason: "dependency_down" };
      }
    },
  };
}

export type ReadinessService = ReturnType<typeof readinessService>;
