export { createFleetRoutes, type FleetRouteDeps } from "./routes.ts";
export {
  DEFAULT_FLEET_RANGE,
  FLEET_RANGES,
  type FleetAgentSummary,
  type FleetAlert,
  type FleetSnapshot,
  FleetSummary,
  type FleetSummaryOptions,
  SPARK_POINTS,
} from "./summary.ts";
export { SPARKS } from "./_rings.ts";
