// What durability costs: committed single-row writes per second through Parley's store
// (WAL, synchronous=FULL, mutex, drizzle) against raw bun:sqlite with FULL and with NORMAL
// (NORMAL survives kill -9 but not a power loss). Same row, same table, same disk.
//   bun bench/sqlite-commit.ts [writes=2000]
import { Database as Sqlite } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assetDir } from "../server/lib/assets.ts";
import { openBunSqlite } from "../server/store/bun-sqlite.ts";
import { migrate, readMigrations } from "../server/store/migrate.ts";
import { auditRepository } from "../server/store/repos/audit.ts";

const writes = Number(process.argv[2] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
const migrations = readMigrations(assetDir("migrations"));

async function parleyStore(concurrent: boolean): Promise<number> {
  const db = openBunSqlite(join(dir, `parley-${concurrent}.db`));
  await migrate(db, migrations);
  const audit = auditRepository(db);
  const row = (i: number) => ({
    at: i,
    actor: "bench",
    action: "bench",
    target: null,
    details: null,
  });
  const start = performance.now();
  if (concurrent) await Promise.all(Array.from({ length: writes }, (_, i) => audit.append(row(i))));
  else for (let i = 0; i < writes; i++) await audit.append(row(i));
  const rate = writes / ((performance.now() - start) / 1000);
  await db.close();
  return rate;
}

function raw(synchronous: "FULL" | "NORMAL"): number {
  const db = new Sqlite(join(dir, `raw-${synchronous}.db`));
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${synchronous}`);
  db.run(
    "CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, details TEXT)",
  );
  const insert = db.prepare(
    "INSERT INTO audit_log (at, actor, action) VALUES (?, 'bench', 'bench')",
  );
  const start = performance.now();
  for (let i = 0; i < writes; i++) insert.run(i); // each statement is its own transaction
  const rate = writes / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

const rows: [string, number][] = [
  ["raw bun:sqlite, NORMAL (peer)", raw("NORMAL")],
  ["raw bun:sqlite, FULL (ceiling)", raw("FULL")],
  ["Parley store, one at a time", await parleyStore(false)],
  ["Parley store, all at once", await parleyStore(true)],
];
rmSync(dir, { recursive: true, force: true });
const ceiling = rows[1]![1];
console.log(`command: bun bench/sqlite-commit.ts ${writes}   (data in ${tmpdir()})`);
for (const [name, rate] of rows) {
  console.log(
    `${name.padEnd(32)} ${rate.toFixed(0).padStart(8)} commits/s  ${((rate / ceiling) * 100).toFixed(0)}% of FULL ceiling`,
  );
}
