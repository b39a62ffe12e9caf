/** The oxmon version reported by the health endpoint and `--version`. */
export const VERSION = "0.1.0";
