/**
 * Reading config files: TOML text to a frozen, typed object, every problem reported with its
 * TOML path (`ConfigError`). The server's modules come through here.
 *
 * The agent imports `reader.ts` and `loader.ts` instead: `load.ts` parses with smol-toml, an npm
 * package the agent must not load at start-up (its own `agent/_toml.ts` reads the subset of TOML
 * its config uses; `agent/module_graph_test.ts` holds it to that).
 *
 * @module
 */
export { ConfigError, TableReader, type TomlTable } from "./reader.ts";
export { loadConfigFile, loadConfigText } from "./load.ts";
export { type ConfigLoader, configLoader, type TomlParser } from "./loader.ts";
