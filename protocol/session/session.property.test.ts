// Property tests: random sequences of send / deliver / drop / reorder / duplicate /
// serialize-restore / (simultaneous) initiation between two and three devices.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { seededRng } from "../../tests/support/deterministic.ts";
import { createParty, type Party } from "../../tests/support/parties.ts";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import { decryptPairwise, encryptPairwise, hasSession, initiateSession } from "./cipher.ts";
import { decodeSessionRecord, encodeSessionRecord } from "./record.ts";

const RUNS = Number(process.env.PARLEY_PROPERTY_RUNS ?? 1_000);
/** Messages wait at most this many deliveries: far inside the kept chains and skipped keys. */
const MAX_AGE = 6;
const WINDOW = 3;

type Command =
  | { kind: "send"; from: number; to: number }
  | { kind: "init"; from: number; to: number }
  | { kind: "deliver"; pick: number }
  | { kind: "drop"; pick: number }
  | { kind: "duplicate"; pick: number }
  | { kind: "restore"; who: number };

const commandArb = (parties: number): fc.Arbitrary<Command> => {
  const who = fc.integer({ min: 0, max: parties - 1 });
  const pair = fc.tuple(who, who).filter(([a, b]) => a !== b);
  const pick = fc.nat(50);
  return fc.oneof(
    { weight: 6, arbitrary: pair.map(([from, to]) => ({ kind: "send" as const, from, to })) },
    { weight: 1, arbitrary: pair.map(([from, to]) => ({ kind: "init" as const, from, to })) },
    { weight: 6, arbitrary: pick.map((p) => ({ kind: "deliver" as const, pick: p })) },
    { weight: 1, arbitrary: pick.map((p) => ({ kind: "drop" as const, pick: p })) },
    { weight: 1, arbitrary: pick.map((p) => ({ kind: "duplicate" as const, pick: p })) },
    { weight: 1, arbitrary: who.map((w) => ({ kind: "restore" as const, who: w })) },
  );
};

interface InFlight {
  from: number;
  to: number;
  text: string;
  body: Uint8Array;
  age: number;
}

async function runScenario(ctx: ProtocolContext, parties: Party[], commands: Command[]) {
  const pending: InFlight[] = [];
  const delivered: InFlight[] = [];
  let serial = 0;
  const stores = (i: number) => parties[i]!.store.stores;
  const addr = (i: number) => parties[i]!.address;

  const send = async (from: number, to: number) => {
    if (!(await hasSession(stores(from), addr(to)))) {
      await initiateSession(ctx, stores(from), addr(to), parties[to]!.bundle());
    }
    const text = `m${serial++} ${from}->${to}`;
    const { body } = await encryptPairwise(ctx, stores(from), addr(to), utf8(text));
    pending.push({ from, to, text, body, age: 0 });
  };
  const deliver = async (index: number) => {
    const [m] = pending.splice(index, 1);
    const plaintext = await decryptPairwise(ctx, stores(m!.to), addr(m!.from), m!.body);
    expect(fromUtf8(plaintext)).toBe(m!.text);
    delivered.push(m!);
    for (const p of pending) p.age++;
  };
  const overdue = () => pending.findIndex((p) => p.age >= MAX_AGE);

  for (const c of commands) {
    if (c.kind === "send") await send(c.from, c.to);
    else if (c.kind === "init")
      await initiateSession(ctx, stores(c.from), addr(c.to), parties[c.to]!.bundle());
    else if (c.kind === "deliver" && pending.length > 0) {
      const late = overdue();
      await deliver(late >= 0 ? late : c.pick % Math.min(WINDOW, pending.length));
    } else if (c.kind === "drop" && pending.length > 0) pending.splice(c.pick % pending.length, 1);
    else if (c.kind === "duplicate" && delivered.length > 0) {
      const m = delivered[c.pick % delivered.length]!;
      const err = await decryptPairwise(ctx, stores(m.to), addr(m.from), m.body).then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeInstanceOf(ParleyError);
      expect((err as ParleyError).code).toBe("duplicate_message");
    } else if (c.kind === "restore") {
      const records = parties[c.who]!.store.records;
      for (const [k, v] of records) {
        const again = encodeSessionRecord(decodeSessionRecord(v));
        expect(again).toEqual(v);
        records.set(k, again);
      }
    }
  }
  // Everything still in flight arrives, oldest first.
  while (pending.length > 0) await deliver(0);
  // Then every pair that talked exchanges one message each way without crossing: both
  // ends must be on the same session.
  for (let i = 0; i < parties.length; i++) {
    for (let j = i + 1; j < parties.length; j++) {
      if (!(await hasSession(stores(i), addr(j))) && !(await hasSession(stores(j), addr(i))))
        continue;
      await send(i, j);
      await deliver(0);
      await send(j, i);
      await deliver(0);
      const ij = decodeSessionRecord((await parties[i]!.store.loadSession(addr(j)))!).current!;
      const ji = decodeSessionRecord((await parties[j]!.store.loadSession(addr(i)))!).current!;
      expect(ij.baseKey).toEqual(ji.baseKey);
    }
  }
}

const native = (await nativePrimitives())!;

for (const count of [2, 3]) {
  test(`${count} devices: every delivered message decrypts exactly once, duplicates are refused, sessions converge`, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArb(count), { minLength: 5, maxLength: 40 }),
        async (commands) => {
          const ctx: ProtocolContext = {
            prims: native,
            rng: seededRng(`run-${count}-${run++}`),
            now: () => 0,
          };
          const parties = await Promise.all(
            ["alice", "bob", "carol"]
              .slice(0, count)
              .map((name) =>
                createParty(ctx, name, "d1", { oneTimePrekeys: 3, pqOneTimePrekeys: 1 }),
              ),
          );
          await runScenario(ctx, parties, commands);
        },
      ),
      {
        numRuns: Math.ceil(RUNS / 2),
        seed: Number(process.env.PARLEY_PROPERTY_SEED ?? Date.now() % 2 ** 31),
      },
    );
  }, 300_000);
}
