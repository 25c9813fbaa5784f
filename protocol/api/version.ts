/** Every API path starts with this prefix; a breaking change gets a new one. */
export const API_PREFIX = "/api/v1";

/** The API major version the server speaks; the web client reloads when it differs. */
export const API_VERSION = 1;
