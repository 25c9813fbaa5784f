// Protocol operations per second: Parley on its native (WebCrypto) and noble (pure JS)
// primitives against @signalapp/libsignal-client (Rust, through its Node-API addon), all in
// one run on this machine. Each operation is warmed up, then run for a fixed time; only the
// operation itself is timed (fresh keys, message ids and ciphertexts to decrypt are made
// between timed batches). The operations are in bench/protocol/.
//   bun bench/protocol-ops.ts [seconds-per-op=2]
import { systemClock, systemRng } from "../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { nativePrimitives } from "../protocol/crypto/native.ts";
import { noblePrimitives } from "../protocol/crypto/noble.ts";
import type { Primitives } from "../protocol/crypto/primitives.ts";
import { type Bench, opsPerSecond, type Rate, WINDOWS } from "./protocol/bench.ts";
import {
  libsignalRatchet,
  libsignalSafetyNumber,
  libsignalSenderKey,
  libsignalSetup,
} from "./protocol/libsignal-benches.ts";
import {
  parleyRatchet,
  parleySafetyNumber,
  parleySenderKey,
  parleySetup,
} from "./protocol/parley-benches.ts";

const seconds = Number(process.argv[2] ?? 2);
if (!(seconds > 0)) throw new Error("usage: bun bench/protocol-ops.ts [seconds-per-op=2]");
const warmupSeconds = Math.min(0.5, seconds / 4);

async function measure<T>(b: Bench<T>): Promise<Rate> {
  await opsPerSecond(b, warmupSeconds);
  return opsPerSecond(b, seconds);
}

const native = await nativePrimitives();
if (!native) throw new Error("this runtime has no native (WebCrypto) primitives");
const context = (prims: Primitives): ProtocolContext => ({
  prims,
  rng: systemRng,
  now: systemClock,
});

interface Row {
  name: string;
  native: Rate;
  noble: Rate;
  libsignal: Rate;
}
const rows: Row[] = [];
async function row(
  name: string,
  parley: (ctx: ProtocolContext) => Promise<Bench<unknown>>,
  libsignal: () => Promise<Bench<unknown>>,
) {
  const r: Row = {
    name,
    native: await measure(await parley(context(native!))),
    noble: await measure(await parley(context(noblePrimitives))),
    libsignal: await measure(await libsignal()),
  };
  rows.push(r);
  console.error(`  measured: ${name}`);
}

const command = `bun bench/protocol-ops.ts ${seconds}`;
console.log(
  `command: ${command}   (Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, ${new Date().toISOString().slice(0, 10)})`,
);
const started = performance.now();
await row(
  "PQXDH session setup (both sides)",
  (ctx) => parleySetup(ctx, false),
  async () => libsignalSetup(),
);
await row(
  "  same + verifyPrekeyBundle first",
  (ctx) => parleySetup(ctx, true),
  async () => libsignalSetup(),
);
await row("ratchet encrypt+decrypt 1 KiB", parleyRatchet, libsignalRatchet);
await row(
  "sender-key encrypt 1 KiB",
  async (ctx) => (await parleySenderKey(ctx)).encrypt,
  async () => (await libsignalSenderKey()).encrypt,
);
await row(
  "sender-key decrypt 1 KiB (verify+decrypt)",
  async (ctx) => (await parleySenderKey(ctx)).decrypt,
  async () => (await libsignalSenderKey()).decrypt,
);
await row(
  "sender-key encrypt 1 KiB, 64 at once (libsignal: one by one)",
  async (ctx) => (await parleySenderKey(ctx)).encryptBurst,
  async () => (await libsignalSenderKey()).encrypt,
);
await row(
  "sender-key decrypt 1 KiB, pages of 64 (libsignal: one by one)",
  async (ctx) => (await parleySenderKey(ctx)).decryptPage,
  async () => (await libsignalSenderKey()).decrypt,
);
await row(
  "safety number (same code both Parley cols)",
  async () => parleySafetyNumber,
  async () => libsignalSafetyNumber,
);

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const cell = (r: Rate) => `${fmt(r.rate)} (${fmt(r.min)}–${fmt(r.max)})`;
const table = [
  ["operation", "Parley native ops/s", "Parley noble ops/s", "libsignal ops/s", "native/libsignal"],
  ...rows.map((r) => [
    r.name,
    cell(r.native),
    cell(r.noble),
    cell(r.libsignal),
    (r.native.rate / r.libsignal.rate).toFixed(2),
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
for (const t of table) {
  console.log(
    t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
  );
}
console.log(`ops/s over ${seconds} s each (slowest–fastest of ${WINDOWS} equal slices)`);
const ms = (r: Rate) => (1000 / r.rate).toFixed(2);
for (const r of rows.slice(0, 2)) {
  console.log(
    `${r.name.trim()}: ms per full setup: Parley native ${ms(r.native)}, noble ${ms(r.noble)}, libsignal ${ms(r.libsignal)}`,
  );
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
