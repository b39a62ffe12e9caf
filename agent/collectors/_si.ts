/**
 * systeminformation, loaded on first use: on Linux the agent never needs it, and importing it
 * costs start-up time and resident memory.
 */
type Systeminformation = typeof import("systeminformation");

let loaded: Promise<Systeminformation> | undefined;

export function systeminformation(): Promise<Systeminformation> {
  loaded ??= import("systeminformation").then((module) => module.default ?? module);
  return loaded;
}
