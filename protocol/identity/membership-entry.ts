import type { ProtocolContext } from "../crypto/context.ts";
import { ED25519_SIGNATURE_BYTES, SHA256_BYTES } from "../crypto/primitives.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { type ConversationId, malformedField, readId, type UserId, writeId } from "./ids.ts";
import type { AccountSecretKey } from "./keys.ts";
import {
  MEMBER_ROLES,
  MEMBERSHIP_ACTIONS,
  type MemberRole,
  type MembershipAction,
  type MembershipActionType,
} from "./membership-rules.ts";
import { expectTime, signBody, signedHash } from "./signed.ts";

/**
 * One entry of a group's membership log, signed by the actor's account key. Entries form a
 * hash chain: epoch 0 is the `create` entry with an all-zero `previousHash`; each later
 * entry has epoch + 1 and the previous entry's {@link membershipEntryHash}.
 */
export interface MembershipEntryFields {
  conversationId: ConversationId;
  epoch: number;
  /** 32 bytes: the previous entry's hash; all zero at epoch 0. */
  previousHash: Uint8Array;
  actor: UserId;
  /** The actor's clock, ms since the epoch: informational (order comes from `epoch`). */
  at: number;
  action: MembershipAction;
}

/** A membership log entry with the actor's account-key signature. */
export interface MembershipEntry extends MembershipEntryFields {
  signature: Uint8Array;
}

const ACTION_BY_BYTE = new Map<number, MembershipActionType>(
  Object.entries(MEMBERSHIP_ACTIONS).map(([k, v]) => [v, k as MembershipActionType]),
);
const ROLE_BY_BYTE = new Map<number, MemberRole>(
  Object.entries(MEMBER_ROLES).map(([k, v]) => [v, k as MemberRole]),
);

/** What is structurally wrong with an entry, or undefined (decoder, signer and verifier). */
export function membershipEntryShapeProblem(e: MembershipEntryFields): string | undefined {
  if (!Number.isSafeInteger(e.epoch) || e.epoch < 0) return "epoch must be ≥ 0";
  if (!(e.previousHash instanceof Uint8Array) || e.previousHash.length !== SHA256_BYTES) {
    return "previousHash must be 32 bytes";
  }
  if ((e.epoch === 0) !== (e.action.type === "create")) return "create is exactly epoch 0";
  if (e.epoch === 0 && e.previousHash.some((b) => b !== 0)) {
    return "epoch 0 must have an all-zero previousHash";
  }
  return undefined;
}

function writeAction(w: WireWriter, a: MembershipAction): void {
  const type = MEMBERSHIP_ACTIONS[a.type];
  if (type === undefined) throw new RangeError(`unknown membership action ${String(a.type)}`);
  w.u8(type);
  switch (a.type) {
    case "add":
    case "set-role":
      writeId(w, a.target, "target");
      if (MEMBER_ROLES[a.role] === undefined) throw new RangeError(`unknown role ${a.role}`);
      if (a.type === "add" && (a.role as MemberRole) === "owner")
        throw new RangeError("add cannot make an owner");
      w.u8(MEMBER_ROLES[a.role]);
      break;
    case "remove":
      writeId(w, a.target, "target");
      break;
    case "set-info":
      w.fixed(a.infoHash, SHA256_BYTES, "infoHash");
      break;
    case "set-announcements-only":
      w.bool(a.enabled);
      break;
    case "create":
    case "leave":
      break;
  }
}

function readRole(r: WireReader): MemberRole {
  const role = ROLE_BY_BYTE.get(r.u8("role"));
  if (role === undefined) throw malformedField("role", "unknown role");
  return role;
}

function readAction(r: WireReader): MembershipAction {
  const type = ACTION_BY_BYTE.get(r.u8("action"));
  switch (type) {
    case "create":
    case "leave":
      return { type };
    case "add": {
      const target = readId<UserId>(r, "target");
      const role = readRole(r);
      if (role === "owner") throw malformedField("role", "add cannot make an owner");
      return { type, target, role };
    }
    case "set-role":
      return { type, target: readId<UserId>(r, "target"), role: readRole(r) };
    case "remove":
      return { type, target: readId<UserId>(r, "target") };
    case "set-info":
      return { type, infoHash: r.fixed(SHA256_BYTES, "infoHash") };
    case "set-announcements-only":
      return { type, enabled: r.bool("enabled") };
    default:
      throw malformedField("action", "unknown membership action");
  }
}

function encodeBody(e: MembershipEntryFields): WireWriter {
  const w = new WireWriter(WireType.membershipEntry);
  writeId(w, e.conversationId, "conversationId");
  w.varint(e.epoch).fixed(e.previousHash, SHA256_BYTES, "previousHash");
  writeId(w, e.actor, "actor");
  w.varint(e.at);
  writeAction(w, e.action);
  return w;
}

/** The signed part of an entry's encoding (everything but the signature). */
export function membershipEntryBody(e: MembershipEntryFields): Uint8Array {
  return encodeBody(e).finish();
}

/**
 * Wire layout (WireType.membershipEntry): version u8 ‖ type u8 ‖ conversationId string ‖
 * epoch varint ‖ previousHash fixed(32) ‖ actor string ‖ at varint ‖ action u8 ‖ by action:
 * add → target string ‖ role u8; set-role → target string ‖ role u8; remove → target
 * string; set-info → infoHash fixed(32); set-announcements-only → enabled bool; create,
 * leave → nothing ‖ signature fixed(64).
 */
export function encodeMembershipEntry(e: MembershipEntry): Uint8Array {
  return encodeBody(e).fixed(e.signature, ED25519_SIGNATURE_BYTES, "signature").finish();
}

/** Decodes an entry and its shape; never checks the signature or the rules. */
export function decodeMembershipEntry(bytes: Uint8Array): MembershipEntry {
  return decodeWith("membership entry", () => {
    const r = new WireReader(bytes, WireType.membershipEntry, "membership entry");
    const entry: MembershipEntry = {
      conversationId: readId<ConversationId>(r, "conversationId"),
      epoch: r.varint("epoch"),
      previousHash: r.fixed(SHA256_BYTES, "previousHash"),
      actor: readId<UserId>(r, "actor"),
      at: r.varint("at"),
      action: readAction(r),
      signature: r.fixed(ED25519_SIGNATURE_BYTES, "signature"),
    };
    r.end();
    const problem = membershipEntryShapeProblem(entry);
    if (problem) throw malformedField("epoch", problem);
    return entry;
  });
}

/**
 * An entry's chain hash: SHA-256 over its signing input (context ‖ 0x00 ‖ unsigned
 * encoding), as for device lists. Key headers carry the latest one.
 */
export function membershipEntryHash(
  ctx: ProtocolContext,
  entry: MembershipEntryFields,
): Promise<Uint8Array> {
  return signedHash(ctx, "membershipEntry", membershipEntryBody(entry));
}

/** Signs an entry with the actor's account key (shape checked; rules are the caller's). */
export async function signMembershipEntry(
  ctx: ProtocolContext,
  actorSecretKey: AccountSecretKey,
  fields: MembershipEntryFields,
): Promise<MembershipEntry> {
  expectTime(fields.at, "at");
  const problem = membershipEntryShapeProblem(fields);
  if (problem) throw new RangeError(`membership entry: ${problem}`);
  const signature = await signBody(
    ctx,
    actorSecretKey,
    "membershipEntry",
    membershipEntryBody(fields),
  );
  return { ...fields, signature };
}
