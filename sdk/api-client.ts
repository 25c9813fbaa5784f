import type { Tokens } from "../protocol/api/accounts.ts";
import { ParleyError } from "../protocol/errors.ts";
import { type HttpTransport, readJson } from "./transport.ts";

/** Where the client keeps its tokens between requests (memory, or the app's storage). */
export interface TokenHolder {
  tokens: Tokens | undefined;
  /** Called when tokens change, so the app can persist them. */
  onChange?: (tokens: Tokens) => void | Promise<void>;
  /** Signs the device in again with its secret when the refresh token is gone. */
  reauthenticate?: () => Promise<Tokens>;
}

/**
 * The HTTP side of the sdk: JSON in and out, the catalogue error on failure, the bearer
 * token on requests that need it, and one transparent refresh when it has expired.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly transport: HttpTransport,
    readonly auth: TokenHolder = { tokens: undefined },
  ) {}

  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; auth?: boolean; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const send = async () => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      if (options.auth !== false && this.auth.tokens)
        headers.authorization = `Bearer ${this.auth.tokens.accessToken}`;
      const response = await this.transport(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      if (response.status === 204) return undefined as T;
      return (await readJson(response)) as T;
    };
    try {
      return await send();
    } catch (err) {
      if (options.auth === false || !(err instanceof ParleyError) || err.code !== "token_expired")
        throw err;
      await this.refresh();
      return send();
    }
  }

  /** Rotates the refresh token (or signs in again with the device secret when it fails). */
  async refresh(): Promise<Tokens> {
    const current = this.auth.tokens;
    let tokens: Tokens;
    try {
      if (!current) throw new ParleyError("refresh_token_invalid");
      tokens = await this.request<Tokens>("POST", "/api/v1/auth/token", {
        auth: false,
        body: { grant: "refresh", refreshToken: current.refreshToken },
      });
    } catch (err) {
      if (
        !this.auth.reauthenticate ||
        !(err instanceof ParleyError) ||
        !err.code.startsWith("refresh_token")
      )
        throw err;
      tokens = await this.auth.reauthenticate();
    }
    await this.setTokens(tokens);
    return tokens;
  }

  async setTokens(tokens: Tokens): Promise<void> {
    this.auth.tokens = tokens;
    await this.auth.onChange?.(tokens);
  }
}
