/** Whether an agent is reporting, judged the same way by the API, `/metrics` and the overview. */
import { MS_PER_SECOND } from "../../shared/time.ts";

/** Active unless not seen for 3 collection intervals, as the original oxmon judges it. */
export function agentStatus(
  lastSeenMs: number,
  nowMs: number,
  intervalSecs: number,
): "active" | "inactive" {
  return nowMs - lastSeenMs < 3 * intervalSecs * MS_PER_SECOND ? "active" : "inactive";
}
