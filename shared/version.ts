/**
 * The oxmon version, reported by `--version` of both programs and the health endpoint. A release
 * tag `vX.Y.Z` must match it (the release workflow checks).
 */
export const VERSION = "0.1.0";
