import { ParleyError } from "../../../protocol/errors.ts";
import type { AccountWriteError, ProofUse } from "../ports/accounts.ts";

/**
 * A refused account write, as the client sees it. A spent proof is named after what it
 * was: an OTP challenge is `otp_invalid`, an invite (the default) `invite_invalid`.
 */
export function writeError(
  code: AccountWriteError | "not_found",
  proof: ProofUse["kind"] = "invite",
): ParleyError {
  if (code === "proof_used")
    return new ParleyError(proof === "otp" ? "otp_invalid" : "invite_invalid");
  return new ParleyError(code === "not_found" ? "user_not_found" : code);
}
