// What the load generator needs from a server under test. The ceiling relay implements it in
// ceiling-target.ts; a Parley target implements the same against Parley's server (accounts,
// devices and conversations made in prepare(), tickets in connect(), its frame formats in
// encodeSend/decode). The scenarios in scenarios/ see nothing but this interface.

/** A running server: its URL, the pid whose /proc figures are read, and how to stop it. */
export interface RunningServer {
  url: string;
  /** The server process itself (not a wrapper such as taskset or a shell). */
  pid: number;
  stop(): Promise<void>;
}

/** Who talks to whom in a scenario, made known to the target before any connection. */
export interface Plan {
  /** Pairs that exchange direct messages: [sender device, recipient device]. */
  direct: [string, string][];
  /** Groups: name → member devices (the sender is not a member and gets no copy). */
  groups: Record<string, { sender: string; members: string[] }>;
  /** Every other device that only connects (idle connections, offline recipients). */
  devices: string[];
}

/** Where a message goes: what encodeSend needs, made by the target from the plan. */
export type Address = string;

/** A decoded incoming frame. Message numbers are the generator's (see encodeSend). */
export type Incoming =
  | { kind: "ack"; n: number }
  | { kind: "deliver"; ns: number[] }
  | { kind: "synced" }
  | { kind: "other" };

/** How a WebSocket connection is to be opened. */
export interface ConnectOptions {
  /** Receive everything stored for the device before going live (catch-up from the start). */
  catchUp?: boolean;
}

export interface Target {
  /** Shown in the results. */
  name: string;
  /** Starts the server pinned to `cpus` (a taskset list, e.g. "0"), with fresh storage. */
  start(cpus: string): Promise<RunningServer>;
  /** Makes the accounts, devices, conversations and groups the plan needs. */
  prepare(plan: Plan): Promise<void>;
  /**
   * Opens a device's WebSocket, with `onFrame` receiving every text frame from the first one
   * on; resolves once it is open (and usable for sending).
   */
  connect(
    device: string,
    onFrame: (frame: string) => void,
    options?: ConnectOptions,
  ): Promise<WebSocket>;
  /** The address of the direct conversation from → to, or of a group by name. */
  direct(from: string, to: string): Address;
  group(name: string): Address;
  /**
   * The frame that sends message number `n` (unique in the run; the target turns it into its
   * own id format and back in decode) with the pre-encrypted `payload` (base64) to `to`.
   */
  encodeSend(n: number, to: Address, payload: string): string;
  decode(frame: string): Incoming;
}
