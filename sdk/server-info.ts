import type { HealthResponse } from "../protocol/api/system.ts";
import { API_VERSION } from "../protocol/api/version.ts";
import { type HttpTransport, readJson } from "./transport.ts";

export interface ServerInfo {
  version: string;
  apiVersion: number;
  /** False when the server speaks another API version than this client: reload or upgrade. */
  compatible: boolean;
}

/** Asks a server which Parley it runs (GET /health). */
export async function fetchServerInfo(
  baseUrl: string,
  transport: HttpTransport,
): Promise<ServerInfo> {
  const health = (await readJson(await transport(`${baseUrl}/health`))) as HealthResponse;
  return {
    version: health.version,
    apiVersion: health.apiVersion,
    compatible: health.apiVersion === API_VERSION,
  };
}
