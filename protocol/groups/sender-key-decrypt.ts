import { openOnce } from "../crypto/aead.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ParleyError } from "../errors.ts";
import { verifyBody } from "../identity/signed.ts";
import {
  chainStep,
  type ReceivedSenderKey,
  SENDER_KEY_GRACE_MS,
  SENDER_KEY_MAX_FORWARD_JUMP,
  SENDER_KEY_MAX_SKIPPED,
  type SenderKeyRecord,
} from "./sender-key.ts";
import { decodeSenderKeyMessage, type SenderKeyMessage } from "./sender-key-wire.ts";

/** What the transport says about a conversation message, checked against its signed fields. */
export interface SenderKeyEnvelope {
  conversationId: string;
  senderUserId: string;
  senderDeviceId: string;
  clientMessageId: string;
  /** When the server accepted the message (for the closed-version grace period). */
  serverTime: number;
}

export type SenderKeyResult = { plaintext: Uint8Array } | { error: ParleyError };

/** Decryption failures look alike: `decrypt_failed`, except a replay (`duplicate_message`). */
function asDecryptError(err: unknown): ParleyError {
  if (
    err instanceof ParleyError &&
    (err.code === "duplicate_message" || err.code === "decrypt_failed")
  )
    return err;
  const detail =
    err instanceof ParleyError ? `${err.code}: ${err.detail ?? err.message}` : String(err);
  return new ParleyError("decrypt_failed", undefined, { detail, cause: err });
}

/** Checks that do not need the chain: encoding, envelope, version, grace, epoch, signature. */
async function authenticate(
  ctx: ProtocolContext,
  record: SenderKeyRecord,
  envelope: SenderKeyEnvelope,
  body: Uint8Array,
): Promise<{ m: SenderKeyMessage; keyVersion: number }> {
  const m = decodeSenderKeyMessage(body);
  const fail = (detail: string) => new ParleyError("decrypt_failed", undefined, { detail });
  if (
    m.conversationId !== envelope.conversationId ||
    m.senderUserId !== envelope.senderUserId ||
    m.senderDeviceId !== envelope.senderDeviceId ||
    m.clientMessageId !== envelope.clientMessageId
  ) {
    throw fail("signed fields do not match the envelope (moved or misattributed)");
  }
  const held = record.versions.find((v) => v.keyVersion === m.keyVersion);
  if (!held) throw fail(`no key version ${m.keyVersion}`);
  if (held.closedAt !== undefined && envelope.serverTime > held.closedAt + SENDER_KEY_GRACE_MS) {
    throw fail(`key version ${m.keyVersion} is closed`);
  }
  if (m.membershipEpoch !== held.membershipEpoch)
    throw fail("membership epoch differs from the key's");
  await verifyBody(ctx, held.signingKey, "senderKeyMessage", m.signed, m.signature);
  return { m, keyVersion: m.keyVersion };
}

/** The message key for `counter`, from the skipped keys or by stepping the chain (in place). */
async function messageKeyFor(
  ctx: ProtocolContext,
  version: ReceivedSenderKey,
  counter: number,
): Promise<Uint8Array> {
  const skipped = version.skipped.get(counter);
  if (skipped) {
    version.skipped.delete(counter);
    return skipped;
  }
  if (counter < version.iteration) {
    throw new ParleyError("duplicate_message", undefined, {
      detail: `counter ${counter} already used`,
    });
  }
  if (counter - version.iteration > SENDER_KEY_MAX_FORWARD_JUMP) {
    throw new ParleyError("decrypt_failed", undefined, {
      detail: `jump of ${counter - version.iteration}`,
    });
  }
  while (version.iteration < counter) {
    const step = await chainStep(ctx, version.chainKey);
    version.skipped.set(version.iteration, step.messageKey);
    version.chainKey = step.chainKey;
    version.iteration++;
    if (version.skipped.size > SENDER_KEY_MAX_SKIPPED)
      version.skipped.delete(version.skipped.keys().next().value as number);
  }
  const step = await chainStep(ctx, version.chainKey);
  version.chainKey = step.chainKey;
  version.iteration++;
  return step.messageKey;
}

/**
 * Verifies and decrypts conversation messages of one sender device (a page of history, or
 * one live message), in order. Signatures are checked all at once, then the chain steps run
 * in order, then the decryptions all at once. Each result is the plaintext or the error: a
 * replay is `duplicate_message`; a message moved to another conversation, attributed to
 * another device, under a closed version past its grace, badly signed or otherwise faulty is
 * `decrypt_failed`. Only authenticated messages advance the returned record (store it);
 * callers process one sender's messages one call at a time.
 */
export async function decryptManyWithSenderKey(
  ctx: ProtocolContext,
  record: SenderKeyRecord,
  items: readonly { envelope: SenderKeyEnvelope; body: Uint8Array }[],
): Promise<{ results: SenderKeyResult[]; record: SenderKeyRecord }> {
  const authenticated = await Promise.all(
    items.map((item) =>
      authenticate(ctx, record, item.envelope, item.body).catch((err: unknown) =>
        asDecryptError(err),
      ),
    ),
  );
  const versions = new Map(
    record.versions.map((v) => [v.keyVersion, { ...v, skipped: new Map(v.skipped) }]),
  );
  const keys: (Uint8Array | ParleyError)[] = [];
  for (const a of authenticated) {
    if (a instanceof ParleyError) keys.push(a);
    else
      keys.push(
        await messageKeyFor(ctx, versions.get(a.keyVersion)!, a.m.counter).catch((err: unknown) =>
          asDecryptError(err),
        ),
      );
  }
  const results = await Promise.all(
    authenticated.map(async (a, i): Promise<SenderKeyResult> => {
      const key = keys[i]!;
      if (a instanceof ParleyError) return { error: a };
      if (key instanceof ParleyError) return { error: key };
      try {
        return {
          plaintext: await openOnce(ctx.prims, "senderKeyMessage", key, a.m.ciphertext, a.m.header),
        };
      } catch (err) {
        return { error: asDecryptError(err) };
      }
    }),
  );
  return {
    results,
    record: { ...record, versions: record.versions.map((v) => versions.get(v.keyVersion)!) },
  };
}

/** One message: the plaintext and the updated record (store it), or the error thrown. */
export async function decryptWithSenderKey(
  ctx: ProtocolContext,
  record: SenderKeyRecord,
  envelope: SenderKeyEnvelope,
  body: Uint8Array,
): Promise<{ plaintext: Uint8Array; record: SenderKeyRecord }> {
  const { results, record: updated } = await decryptManyWithSenderKey(ctx, record, [
    { envelope, body },
  ]);
  const result = results[0]!;
  if ("error" in result) throw result.error;
  return { plaintext: result.plaintext, record: updated };
}
