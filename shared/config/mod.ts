export { ConfigError, TableReader, type TomlTable } from "./reader.ts";
export { loadConfigFile, loadConfigText } from "./load.ts";
export { type ConfigLoader, configLoader, type TomlParser } from "./loader.ts";
