import type { ContactsStore } from "../ports/contacts.ts";
import type { DeviceEvent, EventBus } from "../ports/events.ts";
import type { UserId } from "../ports.ts";

export type DeviceChange = Extract<DeviceEvent, { type: "device_changed" }>["change"];

/**
 * Tells everyone who encrypts to a user that the user's device list changed: the user's own
 * devices and the connected devices of the users who have them as a contact. They fetch the
 * new signed list and stop encrypting to a removed device (or see a safety-number change
 * after a reset). The messaging issue widens the audience to conversation members; devices
 * that are offline learn it from the list at their next fetch.
 */
export function deviceAnnouncer(deps: { events: EventBus; contacts: ContactsStore }) {
  return async (userId: UserId, deviceListVersion: number, change: DeviceChange) => {
    const event: DeviceEvent = { type: "device_changed", userId, deviceListVersion, change };
    deps.events.toUser(userId, event);
    for (const watcher of await deps.contacts.listedBy(userId)) deps.events.toUser(watcher, event);
  };
}

export type DeviceAnnouncer = ReturnType<typeof deviceAnnouncer>;
