// Every decoder of the protocol with sample valid inputs, for the fuzzer. A decoder may
// return or throw ParleyError `malformed_message` — nothing else, whatever the bytes.
import {
  decodeAttachmentPointer,
  encodeAttachmentPointer,
} from "../../protocol/attachments/pointer.ts";
import { fromHex } from "../../protocol/crypto/bytes.ts";
import { decodeKeyHeader, decodeKeyHeaderContent } from "../../protocol/groups/key-header.ts";
import {
  decodeOwnSenderKey,
  decodeSenderKeyRecord,
} from "../../protocol/groups/sender-key-records.ts";
import {
  decodeSenderKeyDistribution,
  decodeSenderKeyMessage,
} from "../../protocol/groups/sender-key-wire.ts";
import { decodeDeviceCertificate } from "../../protocol/identity/device-certificate.ts";
import { decodeDeviceList } from "../../protocol/identity/device-list.ts";
import type { MessageId, UserId } from "../../protocol/identity/ids.ts";
import { decodeMembershipEntry } from "../../protocol/identity/membership-entry.ts";
import { decodeSignedPrekey } from "../../protocol/identity/prekey.ts";
import identityVectors from "../../protocol/identity/vectors.json" with { type: "json" };
import { decodeMessageContent, encodeMessageContent } from "../../protocol/messages/content.ts";
import {
  decodeContactNickname,
  encodeContactNickname,
} from "../../protocol/profile/contact-nickname.ts";
import { decodeDeviceName, encodeDeviceName } from "../../protocol/profile/device-name.ts";
import { decodeProfileContent, encodeProfileContent } from "../../protocol/profile/profile.ts";
import {
  decodeProvisioningContent,
  decodeProvisioningEnvelope,
} from "../../protocol/provisioning/provisioning.ts";
import { computeSafetyNumber, decodeSafetyNumberCode } from "../../protocol/safety-number.ts";
import { decodePrekeyMessage, decodeRatchetMessage } from "../../protocol/session/messages.ts";
import { decodeSessionRecord } from "../../protocol/session/record.ts";
import { WireType } from "../../protocol/wire/codec.ts";
import messagingVectors from "../vectors/messaging.json" with { type: "json" };

export interface FuzzTarget {
  name: string;
  type: number;
  decode: (input: Uint8Array) => unknown;
}

export const TARGETS: FuzzTarget[] = [
  { name: "prekey message", type: WireType.prekeyMessage, decode: decodePrekeyMessage },
  { name: "ratchet message", type: WireType.ratchetMessage, decode: decodeRatchetMessage },
  { name: "session record", type: WireType.sessionRecord, decode: decodeSessionRecord },
  { name: "sender key message", type: WireType.senderKeyMessage, decode: decodeSenderKeyMessage },
  {
    name: "sender key distribution",
    type: WireType.senderKeyDistribution,
    decode: decodeSenderKeyDistribution,
  },
  { name: "sender key record", type: WireType.senderKeyRecord, decode: decodeSenderKeyRecord },
  { name: "own sender key", type: WireType.ownSenderKey, decode: decodeOwnSenderKey },
  { name: "key header", type: WireType.keyHeader, decode: decodeKeyHeader },
  { name: "key header content", type: WireType.keyHeaderContent, decode: decodeKeyHeaderContent },
  {
    name: "provisioning envelope",
    type: WireType.provisioningEnvelope,
    decode: decodeProvisioningEnvelope,
  },
  {
    name: "provisioning content",
    type: WireType.provisioningMessage,
    decode: decodeProvisioningContent,
  },
  { name: "device certificate", type: WireType.deviceCertificate, decode: decodeDeviceCertificate },
  { name: "signed prekey", type: WireType.signedPrekey, decode: decodeSignedPrekey },
  { name: "device list", type: WireType.deviceList, decode: decodeDeviceList },
  { name: "membership entry", type: WireType.membershipEntry, decode: decodeMembershipEntry },
  { name: "attachment pointer", type: WireType.attachmentPointer, decode: decodeAttachmentPointer },
  { name: "safety number code", type: WireType.safetyNumberCode, decode: decodeSafetyNumberCode },
  { name: "profile content", type: WireType.profileContent, decode: decodeProfileContent },
  { name: "device name", type: WireType.deviceName, decode: decodeDeviceName },
  { name: "contact nickname", type: WireType.contactNickname, decode: decodeContactNickname },
  { name: "message content", type: WireType.messageContent, decode: decodeMessageContent },
];

/**
 * Valid encodings to mutate: the frozen vectors plus a pointer, a safety-number code,
 * padded profile, device-name and nickname contents (the plaintexts inside their sealing),
 * and padded message contents of several kinds, an unknown one included.
 */
export function sampleInputs(): Uint8Array[] {
  const samples: Uint8Array[] = [];
  for (const hex of [
    ...Object.values(messagingVectors.vectors),
    ...Object.values(identityVectors.vectors),
  ]) {
    if (/^01[0-9a-f]{2}/.test(hex) && hex.length % 2 === 0) samples.push(fromHex(hex));
  }
  samples.push(
    encodeAttachmentPointer({
      blobId: "blob-1",
      key: new Uint8Array(32).fill(1),
      digest: new Uint8Array(32).fill(2),
      size: 1234,
      mimeType: "image/png",
      fileName: "cat.png",
      width: 640,
      height: 480,
      thumbnail: {
        blobId: "thumb-1",
        key: new Uint8Array(32).fill(3),
        digest: new Uint8Array(32).fill(4),
        size: 99,
        mimeType: "image/jpeg",
      },
    }),
  );
  const key = (n: number) => new Uint8Array(32).fill(n);
  samples.push(
    computeSafetyNumber({
      local: { userId: "01940000-0000-7000-8000-0000000a11ce", accountKey: key(5) },
      remote: { userId: "01940000-0000-7000-8000-000000000b0b", accountKey: key(6) },
    }).scannable,
  );
  samples.push(
    encodeProfileContent({ displayName: "Alice", status: "Curiouser", updatedAt: 1_700_000_000 }),
    encodeProfileContent({
      displayName: "🐇".repeat(64),
      status: "",
      avatar: new Uint8Array(300).fill(7),
      updatedAt: 0,
    }),
    encodeDeviceName("Alice's laptop"),
    encodeContactNickname("Bob from the climbing gym"),
  );
  const messageId = "01940000-0000-7000-8000-00000000beef" as MessageId;
  samples.push(
    encodeMessageContent({
      type: "text",
      body: "Meet at 6?\nBring the rope 🧗",
      replyTo: messageId,
      mentions: ["01940000-0000-7000-8000-000000000b0b" as UserId],
      sentAt: 1_700_000_000_000,
      expiresInSeconds: 3600,
    }),
    encodeMessageContent({
      type: "reaction",
      target: messageId,
      emoji: "👍",
      remove: true,
      sentAt: 1,
    }),
    encodeMessageContent({
      type: "attachment",
      pointer: decodeAttachmentPointer(samples.find((s) => s[1] === WireType.attachmentPointer)!),
      caption: "the crag",
      sentAt: 2,
    }),
    encodeMessageContent({ type: "profile-key", profileKey: key(8), sentAt: 3 }),
    encodeMessageContent({ type: "disappearing-timer", seconds: 86_400, sentAt: 4 }),
    encodeMessageContent({ type: "unknown", kind: 99, fields: key(9), sentAt: 5 }),
  );
  return samples;
}
