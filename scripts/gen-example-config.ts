// Writes deploy/parley.example.toml from the config schema (npm run gen:config).
// server/config/config.test.ts fails when the committed file is out of date.
import { join } from "node:path";
import { renderExampleConfig } from "../server/config/render.ts";

const out = join(import.meta.dir, "..", "deploy", "parley.example.toml");
await Bun.write(out, renderExampleConfig());
console.log(`wrote ${out}`);
