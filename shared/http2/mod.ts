/**
 * HTTP/2 parts shared by the agent's client and the server's gRPC listener: framing constants
 * and helpers (`frames.ts`) and HPACK (`hpack.ts`). The agent imports the files it needs.
 *
 * @module
 */
export * from "./frames.ts";
export { decodeHuffman, encodeHeaderBlock, HpackDecoder } from "./hpack.ts";
