import type { SecretBox } from "../crypto/secret-box.js";
import type { Store } from "../storage/store.js";
import type { Clock } from "./clock.js";

/** What every service function needs: storage, the secret box, and a clock. */
export interface Deps {
  store: Store;
  box: SecretBox;
  clock: Clock;
}
