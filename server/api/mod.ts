export { type ApiDeps, createApiApp, DEFAULT_QUERY_LIMITS, type QueryLimits } from "./app.ts";
export { type ApiServer, serveApi, type ServeApiOptions } from "./serve.ts";
export { ApiError, type ApiErrorCode, badParameter, errorBody, notFound } from "./errors.ts";
export {
  checkParams,
  type CheckParamsOptions,
  DEFAULT_RANGE_MS,
  LABEL_PREFIX,
  labelFilter,
  optionalText,
  parseInteger,
  parseStep,
  parseTime,
  timeRange,
} from "./params.ts";
