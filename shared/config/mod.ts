export { ConfigError, TableReader, type TomlTable } from "./reader.ts";
export { loadConfigFile, loadConfigText } from "./load.ts";
