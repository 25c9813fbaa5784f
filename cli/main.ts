// The entry of the `parley` binary. It must export nothing (bun build --bytecode).
import { defineCommand } from "citty";
import { adminCommand } from "./commands/admin/index.ts";
import { serveCommand } from "./commands/serve.ts";
import { run } from "./run.ts";
import { VERSION } from "./version.ts";

const main = defineCommand({
  meta: {
    name: "parley",
    version: VERSION,
    description: "Self-hosted, end-to-end encrypted messenger",
  },
  subCommands: {
    serve: serveCommand,
    admin: adminCommand,
  },
});

await run(main, process.argv.slice(2), VERSION);
