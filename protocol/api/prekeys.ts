/**
 * How many one-time prekeys a device keeps on the server (docs/PROTOCOL.md §11, Keys): the
 * server tells a device it is running low with these thresholds, the sdk refills by them, and
 * the server refuses to store more than the caps.
 */

/**
 * Fewer one-time X25519 prekeys than this left after a claim: the server sends `keys_low`
 * and the device tops up (it publishes 100, so a refill is rare).
 */
export const KEYS_LOW_ONE_TIME = 10;

/**
 * Fewer one-time ML-KEM prekeys than this left after a claim: the server sends `keys_low`
 * and the device tops up. A device publishes only 10 (each is ~1.6 KB), so the threshold is
 * lower than the X25519 one: refilling at 3 leaves room for a few sessions started while the
 * refill is on its way, and the last-resort PQ prekey covers the rest.
 */
export const KEYS_LOW_PQ_ONE_TIME = 3;

/**
 * At most this many one-time X25519 prekeys stored per device: an upload that would go over
 * is refused whole with `limit_exceeded` (twice the 100 a device publishes).
 */
export const MAX_STORED_ONE_TIME_PREKEYS = 200;

/**
 * At most this many one-time ML-KEM prekeys stored per device: an upload that would go over
 * is refused whole with `limit_exceeded` (five times the 10 a device publishes).
 */
export const MAX_STORED_PQ_ONE_TIME_PREKEYS = 50;
