/** The alert engine: rules from `[[alert.rules]]`, evaluation, state, history and REST routes. */
export { type AlertConfig, type AlertRuleConfig, readAlertConfig } from "./config.ts";
export {
  type ActiveAlert,
  AlertEngine,
  type AlertEngineOptions,
  openAlertEngine,
} from "./engine.ts";
export { type AlertRouteDeps, createAlertRoutes } from "./routes.ts";
export { deferObservations } from "./deferred.ts";
export type { HistoryPage, HistoryQuery } from "./store.ts";
