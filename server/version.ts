/** The oxmon version reported by the health endpoint and `--version`. */
export { VERSION } from "../shared/version.ts";
