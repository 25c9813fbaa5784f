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
 * Concurrent requests share that refresh: a refresh token works once, and the server takes a
 * second use for theft and closes the device's sessions.
 */
export class ApiClient {
  /** The refresh in flight, which every request that meets `token_expired` meanwhile awaits. */
  private pendingRefresh: Promise<Tokens> | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly transport: HttpTransport,
    readonly auth: TokenHolder = { tokens: undefined },
  ) {}

  /**
   * Sends a JSON request and returns the answer's body (`undefined` for 204), or throws the
   * server's ParleyError. The access token goes along unless `auth` is false.
   */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; auth?: boolean; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const send = async (accessToken: string | undefined) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      if (accessToken) headers.authorization = `Bearer ${accessToken}`;
      const response = await this.transport(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      if (response.status === 204) return undefined as T;
      return (await readJson(response)) as T;
    };
    const sentWith = options.auth === false ? undefined : this.auth.tokens?.accessToken;
    try {
      return await send(sentWith);
    } catch (err) {
      if (options.auth === false || !(err instanceof ParleyError) || err.code !== "token_expired")
        throw err;
      // Another request may have refreshed while this one was under way: its token is new.
      if (this.auth.tokens?.accessToken === sentWith) await this.refresh();
      return send(this.auth.tokens?.accessToken);
    }
  }

  /**
   * Rotates the refresh token (or signs in again with the device secret when it fails). Calls
   * made while a refresh is in flight share it instead of spending the refresh token again.
   */
  refresh(): Promise<Tokens> {
    this.pendingRefresh ??= this.rotateTokens().finally(() => {
      this.pendingRefresh = undefined;
    });
    return this.pendingRefresh;
  }

  private async rotateTokens(): Promise<Tokens> {
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

  /** Stores new tokens (after registration, linking or sign-in) and tells the app. */
  async setTokens(tokens: Tokens): Promise<void> {
    this.auth.tokens = tokens;
    await this.auth.onChange?.(tokens);
  }
}
