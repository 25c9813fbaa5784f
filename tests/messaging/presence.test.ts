// Presence through the real server: a `presence` frame reaches the users who have the user
// as a contact, as the user's last-seen visibility allows, when their first device connects
// and when their last one disconnects — never for one device among several, never to anyone
// with visibility `nobody`, only to mutual contacts with `contacts`.
//
// Proving a frame did NOT come: a user's presence events leave the server in order, so each
// test ends with a change that does reach the watcher (a control); a frame that should not
// have been sent would have arrived before it, and the list would not be the one expected.
import { afterAll, expect, test } from "bun:test";
import type { TestUser } from "../support/accounts.ts";
import { expectStatus, frame, framesOf, messagingFixture, type Socket, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

type Visibility = "everyone" | "contacts" | "nobody";

async function visibility(u: TestUser, lastSeenVisibility: Visibility) {
  expectStatus(await f.call(u, "PUT", "/account/settings", { lastSeenVisibility }), 204);
}

/** `owner` adds `contact` to their contacts (or blocks them). */
async function addContact(owner: TestUser, contact: TestUser, body: { blocked?: boolean } = {}) {
  expectStatus(await f.call(owner, "PUT", `/contacts/${contact.state.userId}`, body), 204);
}

/** The presence frames about `u` that `s` received, as `online` flags in order. */
const presenceOf = (s: Socket, u: TestUser) =>
  framesOf(s, "presence")
    .filter((p) => p.userId === u.state.userId)
    .map((p) => p.online);

/** Waits for as many frames about `u` as expected, lets stragglers in, then compares all. */
async function until(s: Socket, u: TestUser, online: boolean[]) {
  await frame(s, "presence", () => presenceOf(s, u).length >= online.length);
  await settle(s);
  await Bun.sleep(50);
  expect(presenceOf(s, u)).toEqual(online);
}

test("online at the first device, offline when the last one goes, not for one of two", async () => {
  const alice = await f.user();
  const bob = await f.user();
  await visibility(alice, "everyone");
  await addContact(bob, alice);
  const bobSocket = await f.socket(bob);

  const phone = await f.socket(alice);
  await until(bobSocket, alice, [true]);
  expect(framesOf(bobSocket, "presence").at(-1)).toEqual({
    type: "presence",
    userId: alice.state.userId,
    online: true,
  });

  // A second device: not a second "online"; then one of the two leaves: not "offline".
  const tablet = await f.linkDevice(alice);
  const tabletSocket = await f.socket(tablet);
  phone.ws.close();
  await phone.closed();
  tabletSocket.ws.close();
  await tabletSocket.closed();
  // The control: back online. An "offline" for the phone would stand before this one's.
  const again = await f.socket(alice);
  await until(bobSocket, alice, [true, false, true]);
  // Alice's own device hears nothing of her presence.
  expect(presenceOf(again, alice)).toEqual([]);
});

test("a takeover (the device connects again) is not an offline", async () => {
  const alice = await f.user();
  const bob = await f.user();
  await visibility(alice, "everyone");
  await addContact(bob, alice);
  const bobSocket = await f.socket(bob);
  const first = await f.socket(alice);
  await until(bobSocket, alice, [true]);

  const second = await f.socket(alice);
  expect((await first.closed()).code).toBe(4001);
  second.ws.close();
  await until(bobSocket, alice, [true, false]);
});

test("visibility nobody: no presence to anyone", async () => {
  const dave = await f.user();
  const carol = await f.user();
  await visibility(dave, "nobody");
  await addContact(carol, dave);
  await addContact(dave, carol);
  const carolSocket = await f.socket(carol);

  const daveSocket = await f.socket(dave);
  daveSocket.ws.close();
  await daveSocket.closed();
  // The control: with everyone, the next connection is announced — and is the first frame.
  await visibility(dave, "everyone");
  await f.socket(dave);
  await until(carolSocket, dave, [true]);
});

test("visibility contacts: only the users the user has as a contact too", async () => {
  const erin = await f.user();
  const frank = await f.user(); // mutual contact
  const gina = await f.user(); // has erin as a contact; erin does not have her
  const hal = await f.user(); // erin has him, he does not have erin
  await visibility(erin, "contacts");
  await addContact(frank, erin);
  await addContact(erin, frank);
  await addContact(gina, erin);
  await addContact(erin, hal);
  const [frankSocket, ginaSocket, halSocket] = await f.sockets(frank, gina, hal);

  const erinSocket = await f.socket(erin);
  await until(frankSocket, erin, [true]);
  erinSocket.ws.close();
  await until(frankSocket, erin, [true, false]);

  // The control: once erin has gina as a contact, gina hears the next change — first.
  await addContact(erin, gina);
  await f.socket(erin);
  await until(ginaSocket, erin, [true]);
  await until(frankSocket, erin, [true, false, true]);
  expect(presenceOf(halSocket, erin)).toEqual([]);
});

test("visibility everyone: not to someone the user blocked", async () => {
  const ivy = await f.user();
  const jack = await f.user();
  const mallory = await f.user();
  await visibility(ivy, "everyone");
  await addContact(jack, ivy);
  await addContact(mallory, ivy);
  await addContact(ivy, mallory, { blocked: true });
  const [jackSocket, mallorySocket] = await f.sockets(jack, mallory);

  const ivySocket = await f.socket(ivy);
  await until(jackSocket, ivy, [true]);
  ivySocket.ws.close();
  await until(jackSocket, ivy, [true, false]);
  // The control: unblocked, mallory hears the next change — first.
  await addContact(ivy, mallory, { blocked: false });
  await f.socket(ivy);
  await until(mallorySocket, ivy, [true]);
});
