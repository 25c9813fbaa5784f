import type { DeviceEvent, EventBus, EventSubscription } from "../domain/ports/events.ts";

/** The event bus of a single node: subscriptions indexed by device and by user. */
export function memoryEventBus(): EventBus {
  const byDevice = new Map<string, EventSubscription>();
  const byUser = new Map<string, Set<EventSubscription>>();
  return {
    toDevice(deviceId, event: DeviceEvent) {
      byDevice.get(deviceId)?.deliver(event);
    },
    toUser(userId, event) {
      for (const s of byUser.get(userId) ?? []) s.deliver(event);
    },
    toUsers(userIds, event) {
      for (const userId of userIds) for (const s of byUser.get(userId) ?? []) s.deliver(event);
    },
    subscribe(s) {
      byDevice.set(s.deviceId, s);
      let set = byUser.get(s.userId);
      if (!set) {
        set = new Set();
        byUser.set(s.userId, set);
      }
      set.add(s);
      return () => {
        if (byDevice.get(s.deviceId) === s) byDevice.delete(s.deviceId);
        set.delete(s);
        if (set.size === 0) byUser.delete(s.userId);
      };
    },
  };
}
