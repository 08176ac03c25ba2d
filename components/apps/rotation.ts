// Rotation without downtime, as data. Every app role has two logins that alternate
// (as the Zalando operator's rotation users do): "a" is the role itself, which owns
// the app's objects and holds its grants; "b" is `<role>_b`, a member of it that
// switches to it at login (ALTER ROLE ... SET role), so whatever it creates is owned
// by the role and every grant to the role holds. `rotation` counts: an odd count
// makes "b" the active login, an even one "a". The login that becomes active gets a
// new password; the other keeps its own (the previous credentials, still working)
// until the next rotation replaces it. Stacks from before keep "a" with its password:
// generation 0 is "a" keyed by the old `rotation` value, so nothing of theirs changes.
import { alternateLoginOf, rotationGeneration } from "../config";
import { assertIdent } from "../lib/names";

export type LoginSlot = "a" | "b";

export interface Login {
  slot: LoginSlot;
  /** Role name: the app role itself for "a", `<role>_b` for "b". */
  name: string;
  /** The login the outputs hand out. */
  active: boolean;
  /**
   * What its password is keyed on (random.RandomPassword keepers): a new value is a new
   * password. For the active login, the rotation that activated it; for the other, the
   * one that last did (the engine keeps its stored keepers anyway: `frozen`).
   */
  keepers: { rotation: string };
  /**
   * The password must not change whatever the keepers say: its keepers are ignored
   * (ignoreChanges), so the previous credentials survive this rotation.
   */
  frozen: boolean;
}

/** Which login is active at a generation: odd → "b", even (and 0) → "a". */
export function activeSlot(generation: number): LoginSlot {
  return generation % 2 === 1 ? "b" : "a";
}

/**
 * The two logins of one app role at `rotation` (the config value). Generation 0 keys
 * "a" on the raw value, as every release before did (`keepers: { rotation }`): an
 * existing stack's password stays, and changing one label to another still resets it
 * at once (the old, immediate kind of rotation).
 */
export function loginsOf(role: string, rotation: string): [Login, Login] {
  const g = rotationGeneration(rotation);
  const active = activeSlot(g);
  // the rotation that last activated each slot; < 1 means "a"'s label era or "b" never used
  const last = (slot: LoginSlot) => (slot === active ? g : g - 1);
  const keeper = (slot: LoginSlot): string => {
    const n = last(slot);
    if (n >= 1) return String(n);
    return slot === "a" ? (g === 0 ? rotation : "initial") : "standby";
  };
  const login = (slot: LoginSlot): Login => ({
    slot,
    name: assertIdent(slot === "a" ? role : alternateLoginOf(role), "role name"),
    active: slot === active,
    keepers: { rotation: keeper(slot) },
    frozen: slot !== active,
  });
  return [login("a"), login("b")];
}

/** The active login of a role at `rotation`. */
export function activeLogin(role: string, rotation: string): Login {
  return loginsOf(role, rotation).find((l) => l.active) as Login;
}
