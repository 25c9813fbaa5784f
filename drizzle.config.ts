import { defineConfig } from "drizzle-kit";

// drizzle-kit generates forward-only SQL migrations from the schema into migrations/;
// the server embeds and applies them at start (server/store/migrate.ts).
export default defineConfig({
  dialect: "sqlite",
  schema: "./server/store/schema.ts",
  out: "./migrations",
  // The username search index (an FTS5 virtual table, migration 0003) is written by hand.
  tablesFilter: ["!users_fts*"],
});
