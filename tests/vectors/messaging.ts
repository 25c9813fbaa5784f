// Builds the frozen vectors of the messaging layers (PQXDH, ratchet, sender keys, key
// headers, provisioning) from a fixed seed and clock: every wire type and KDF is in there,
// so a change to any of them changes these bytes. scripts/gen-protocol-vectors.ts writes
// tests/vectors/messaging.json; tests/vectors/frozen.test.ts compares.
import { encodeAttachmentPointer } from "../../protocol/attachments/pointer.ts";
import { toHex, utf8 } from "../../protocol/crypto/bytes.ts";
import type { Primitives } from "../../protocol/crypto/primitives.ts";
import { openKeyHeader, sealKeyHeader } from "../../protocol/groups/key-header.ts";
import {
  createSenderKey,
  distributionOf,
  emptySenderKeyRecord,
  encryptWithSenderKey,
  installDistribution,
} from "../../protocol/groups/sender-key.ts";
import {
  encodeOwnSenderKey,
  encodeSenderKeyRecord,
} from "../../protocol/groups/sender-key-records.ts";
import { encodeSenderKeyDistribution } from "../../protocol/groups/sender-key-wire.ts";
import type { ConversationId, DeviceId, UserId } from "../../protocol/identity/ids.ts";
import { encodeLinkCode } from "../../protocol/provisioning/link-code.ts";
import {
  createLinkRequest,
  encodeProvisioningContent,
  sealProvisioning,
} from "../../protocol/provisioning/provisioning.ts";
import {
  decryptPairwise,
  encryptPairwise,
  initiateSession,
} from "../../protocol/session/cipher.ts";
import { testContext } from "../support/deterministic.ts";
import { createParty } from "../support/parties.ts";

export const MESSAGING_VECTOR_SEED = "parley messaging vectors v1";

const IDS = {
  alice: "01940000-0000-7000-8000-0000000a11ce" as UserId,
  alicePhone: "01940000-0000-7000-8000-00000000d001" as DeviceId,
  bob: "01940000-0000-7000-8000-000000000b0b" as UserId,
  bobLaptop: "01940000-0000-7000-8000-00000000d002" as DeviceId,
  group: "01940000-0000-7000-8000-00000000c0de" as ConversationId,
  message1: "01940000-0000-7000-8000-000000000001",
  message2: "01940000-0000-7000-8000-000000000002",
};

/** One of each messaging structure, as hex, from a deterministic context. */
export async function buildMessagingVectors(prims: Primitives): Promise<Record<string, string>> {
  const ctx = testContext(MESSAGING_VECTOR_SEED, prims);
  const alice = await createParty(ctx, IDS.alice, IDS.alicePhone, {
    oneTimePrekeys: 1,
    pqOneTimePrekeys: 1,
  });
  const bob = await createParty(ctx, IDS.bob, IDS.bobLaptop, {
    oneTimePrekeys: 1,
    pqOneTimePrekeys: 1,
  });
  const out: Record<string, string> = {};

  // PQXDH and the first ratchet messages.
  await initiateSession(ctx, alice.store.stores, bob.address, bob.bundle());
  const prekeyMessage = await encryptPairwise(
    ctx,
    alice.store.stores,
    bob.address,
    utf8("hello bob"),
  );
  await decryptPairwise(ctx, bob.store.stores, alice.address, prekeyMessage.body);
  const reply = await encryptPairwise(ctx, bob.store.stores, alice.address, utf8("hello alice"));
  await decryptPairwise(ctx, alice.store.stores, bob.address, reply.body);
  const followUp = await encryptPairwise(
    ctx,
    alice.store.stores,
    bob.address,
    utf8("ratchet turned"),
  );
  await decryptPairwise(ctx, bob.store.stores, alice.address, followUp.body);
  out.prekeyMessage = toHex(prekeyMessage.body);
  out.ratchetMessageFromResponder = toHex(reply.body);
  out.ratchetMessageAfterTurn = toHex(followUp.body);
  out.aliceSessionRecord = toHex(alice.store.records.get(`${IDS.bob}:${IDS.bobLaptop}`)!);
  out.bobSessionRecord = toHex(bob.store.records.get(`${IDS.alice}:${IDS.alicePhone}`)!);

  // A sender key, its first message, the key header carrying it, and the records.
  const own = await createSenderKey(ctx, {
    conversationId: IDS.group,
    senderUserId: IDS.alice,
    senderDeviceId: IDS.alicePhone,
    previousVersion: 0,
    membershipEpoch: 1,
    membershipLogHash: new Uint8Array(32).fill(0x42),
    deviceListVersion: 1,
  });
  const distribution = distributionOf(own);
  const keyHeader = await sealKeyHeader(
    ctx,
    alice.store.stores,
    {
      ...bob.address,
      signedPrekey: { keyId: 1, publicKey: bob.store.signedPrekeys.get(1)!.publicKey },
    },
    {
      distribution,
      recipientUserId: IDS.bob,
      recipientDeviceId: IDS.bobLaptop,
      messageId: IDS.message1,
    },
  );
  const groupMessage = await encryptWithSenderKey(ctx, own, IDS.message1, utf8("hello group"));
  const second = await encryptWithSenderKey(ctx, own, IDS.message2, utf8("second"));
  const received = await openKeyHeader(
    ctx,
    bob.store.stores,
    alice.address,
    { conversationId: IDS.group, messageId: IDS.message1 },
    keyHeader,
  );
  out.senderKeyDistribution = toHex(encodeSenderKeyDistribution(distribution));
  out.keyHeader = toHex(keyHeader);
  out.senderKeyMessage = toHex(groupMessage);
  out.senderKeyMessageSecond = toHex(second);
  out.ownSenderKey = toHex(encodeOwnSenderKey(own));
  out.receivedSenderKeyRecord = toHex(
    encodeSenderKeyRecord(installDistribution(emptySenderKeyRecord(), received, ctx.now())),
  );

  // Linking a new device.
  const link = await createLinkRequest(ctx);
  const content = {
    userId: IDS.alice,
    accountKeyPair: alice.accountKeyPair,
    profileKey: new Uint8Array(32).fill(0x50),
    deviceList: new Uint8Array([1, 10, 0x42]),
    senderKeys: [distribution],
    createdAt: ctx.now(),
  };
  out.linkCode = encodeLinkCode(link.keyPair.publicKey);
  out.provisioningContent = toHex(encodeProvisioningContent(content));
  out.provisioningEnvelope = toHex(await sealProvisioning(ctx, link.keyPair.publicKey, content));

  // An attachment pointer, as it travels inside a message's plaintext.
  out.attachmentPointer = toHex(
    encodeAttachmentPointer({
      blobId: "01940000-0000-7000-8000-0000000b10b1",
      key: ctx.rng(32),
      digest: ctx.rng(32),
      size: 123_456,
      mimeType: "image/jpeg",
      fileName: "harbour.jpg",
      width: 1280,
      height: 960,
      thumbnail: {
        blobId: "01940000-0000-7000-8000-0000000b10b2",
        key: ctx.rng(32),
        digest: ctx.rng(32),
        size: 4_321,
        mimeType: "image/jpeg",
      },
    }),
  );
  return out;
}
