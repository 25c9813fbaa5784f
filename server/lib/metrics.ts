import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The server's Prometheus metrics (GET /metrics). One registry per server instance. */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route">;
  /** Open WebSocket connections; the WebSocket gateway moves it. */
  wsConnections: Gauge;
}

export interface MetricsSources {
  version: string;
  dbWriteQueueDepth: () => number;
  dbSizeBytes: () => Promise<number | undefined>;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: "parley_build_info",
    help: "Always 1; the version label says which Parley is running.",
    labelNames: ["version"],
    registers,
  }).set({ version: sources.version }, 1);
  new Gauge({
    name: "parley_db_write_queue_depth",
    help: "Database writes queued or running in this process.",
    registers,
    collect() {
      this.set(sources.dbWriteQueueDepth());
    },
  });
  new Gauge({
    name: "parley_db_size_bytes",
    help: "Size of the embedded database and its WAL, in bytes.",
    registers,
    async collect() {
      const size = await sources.dbSizeBytes();
      if (size !== undefined) this.set(size);
    },
  });
  return {
    registry,
    httpRequests: new Counter({
      name: "parley_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    }),
    httpDuration: new Histogram({
      name: "parley_http_request_duration_seconds",
      help: "Time to answer HTTP requests, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    wsConnections: new Gauge({
      name: "parley_websocket_connections",
      help: "Open WebSocket connections.",
      registers,
    }),
  };
}
