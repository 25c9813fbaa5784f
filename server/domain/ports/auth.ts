import type { DeviceId } from "../ports.ts";

/** Refresh tokens, WebSocket tickets and the secrets every node shares. */
export interface AuthStore {
  /** Stores a new refresh token (by hash) for a device. */
  addRefreshToken(input: {
    id: string;
    deviceId: DeviceId;
    tokenHash: string;
    now: number;
    expiresAt: number;
  }): Promise<void>;
  /**
   * Spends a refresh token: when it is current, marks it used and returns its device. When it
   * was already used, that is reuse: every refresh token of the device is revoked, access
   * tokens issued before now are refused, and `reused` is returned with the device. A token
   * revoked before (reuse, device removed) is `revoked`, with its device.
   */
  spendRefreshToken(input: {
    id: string;
    tokenHash: string;
    now: number;
  }): Promise<{ deviceId: DeviceId; reused?: true; revoked?: true } | "invalid">;

  addWsTicket(input: { ticketHash: string; deviceId: DeviceId; expiresAt: number }): Promise<void>;
  /** Deletes the ticket and returns its device if it was there and unexpired (single use). */
  spendWsTicket(ticketHash: string, now: number): Promise<DeviceId | undefined>;

  /** A named secret, created with `make` by whichever node asks first. */
  secret(name: string, make: () => Uint8Array, now: number): Promise<Uint8Array>;
}
