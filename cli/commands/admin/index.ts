import { type ArgsDef, defineCommand } from "citty";
import { adminRequest, adminSocketPath } from "../../admin-client.ts";
import { printObject, printRows } from "../../output.ts";

/** Options every admin command takes to find the server. */
export const connectionArgs = {
  socket: {
    type: "string",
    description: "Admin socket (default: from the server's config) [PARLEY_ADMIN_SOCKET]",
    valueHint: "path",
  },
  config: {
    type: "string",
    alias: "c",
    description: "The server's config file [PARLEY_CONFIG]",
    valueHint: "file",
  },
  "data-dir": {
    type: "string",
    description: "The server's data directory [PARLEY_DATA_DIR]",
    valueHint: "dir",
  },
  json: { type: "boolean", description: "Machine-readable output" },
} satisfies ArgsDef;

const usersCreate = defineCommand({
  meta: {
    name: "create",
    description: "Create a user; prints the one-time claim link for their first device",
  },
  args: {
    username: { type: "positional", required: true, description: "3–32 of a–z, 0–9, _ and ." },
    admin: { type: "boolean", description: "Make the user an admin" },
    ...connectionArgs,
  },
  async run({ args }) {
    const created = await adminRequest<Record<string, unknown>>(
      adminSocketPath(args),
      "POST",
      "/users",
      {
        username: args.username,
        admin: args.admin === true,
      },
    );
    printObject(created, args.json === true);
  },
});

const usersReset2fa = defineCommand({
  meta: {
    name: "reset-2fa",
    description: "Remove a user's TOTP second factor (they lost their authenticator and codes)",
  },
  args: {
    username: { type: "positional", required: true, description: "The user's username" },
    ...connectionArgs,
  },
  async run({ args }) {
    await adminRequest(
      adminSocketPath(args),
      "DELETE",
      `/users/${encodeURIComponent(args.username)}/totp`,
    );
    if (args.json) console.log(JSON.stringify({ reset: args.username }));
    else console.log(`two-factor authentication removed for ${args.username}`);
  },
});

const invitesCreate = defineCommand({
  meta: { name: "create", description: "Create an invite code (shown once)" },
  args: {
    uses: {
      type: "string",
      description: "How many accounts it can create (default 1)",
      valueHint: "n",
    },
    hours: { type: "string", description: "Hours until it expires (default 168)", valueHint: "h" },
    note: { type: "string", description: "A note for yourself", valueHint: "text" },
    ...connectionArgs,
  },
  async run({ args }) {
    const created = await adminRequest<Record<string, unknown>>(
      adminSocketPath(args),
      "POST",
      "/invites",
      {
        ...(args.uses ? { maxUses: Number(args.uses) } : {}),
        ...(args.hours ? { expiresInHours: Number(args.hours) } : {}),
        ...(args.note ? { note: args.note } : {}),
      },
    );
    printObject(
      {
        id: created.id,
        code: created.code,
        link: created.link,
        uses: created.maxUses,
        expiresAt: new Date(Number(created.expiresAt)).toISOString(),
      },
      args.json === true,
    );
  },
});

const invitesList = defineCommand({
  meta: { name: "list", description: "List invites" },
  args: { ...connectionArgs },
  async run({ args }) {
    const { invites } = await adminRequest<{ invites: Record<string, unknown>[] }>(
      adminSocketPath(args),
      "GET",
      "/invites",
    );
    printRows(
      invites,
      ["id", "note", "uses", "maxUses", "expiresAt", "revokedAt", "forUserId"],
      args.json === true,
    );
  },
});

const invitesRevoke = defineCommand({
  meta: { name: "revoke", description: "Revoke an invite" },
  args: {
    id: { type: "positional", required: true, description: "The invite id" },
    ...connectionArgs,
  },
  async run({ args }) {
    await adminRequest(adminSocketPath(args), "DELETE", `/invites/${encodeURIComponent(args.id)}`);
    if (args.json) console.log(JSON.stringify({ revoked: args.id }));
    else console.log(`revoked ${args.id}`);
  },
});

/** `parley admin …`: operate the running server over its admin socket. */
export const adminCommand = defineCommand({
  meta: { name: "admin", description: "Administer the running server (users, invites)" },
  subCommands: {
    users: defineCommand({
      meta: { name: "users", description: "Manage users" },
      subCommands: { create: usersCreate, "reset-2fa": usersReset2fa },
    }),
    invites: defineCommand({
      meta: { name: "invites", description: "Manage invite codes" },
      subCommands: { create: invitesCreate, list: invitesList, revoke: invitesRevoke },
    }),
  },
});
