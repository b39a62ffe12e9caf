/**
 * Series ids by agent, metric and labels as a point carries them, without building a string per
 * point: building the canonical identity (sorted keys, JSON) per point cost more than the rest
 * of a write together, and even one concatenated key per point was a quarter of it.
 *
 * A path of nested maps: agent, metric, then each label name and value in the object's own
 * iteration order. Labels inserted in another order take another path to the same id. A hit
 * needs no check: every pair matched and the path ended where the labels did.
 *
 * Paths per series are capped: a client whose map order varies per message (protobuf-go and
 * Rust's HashMap do) would otherwise add a path for every order seen, up to n! for n labels,
 * without adding a series. Orders past the cap take the caller's slow path (canonical JSON).
 */
import type { Labels } from "../../../shared/types.ts";

class Node {
  /** The series whose path ends here, or -1. */
  id = -1;
  next: Map<string, Node> | undefined = undefined;

  child(key: string): Node {
    const next = this.next ??= new Map();
    let node = next.get(key);
    if (node === undefined) next.set(key, node = new Node());
    return node;
  }
}

/** Label orders remembered per series: two labels in either order, and some slack. */
export const MAX_PATHS_PER_SERIES = 4;

export class SeriesLookup {
  #root = new Node();
  /** Paths remembered per series id. */
  #paths = new Uint8Array(1024);

  /** The previous point's agent: a batch holds one agent's points in a row. */
  #lastAgentId = "";
  #lastAgent: Node | undefined = undefined;

  /** The id remembered for these labels, or -1. */
  find(agentId: string, metricName: string, labels: Labels): number {
    let agent = this.#lastAgent;
    if (agentId !== this.#lastAgentId || agent === undefined) {
      agent = this.#root.next?.get(agentId);
      if (agent === undefined) return -1;
      this.#lastAgentId = agentId;
      this.#lastAgent = agent;
    }
    let node = agent.next?.get(metricName);
    if (node === undefined) return -1;
    for (const name in labels) {
      node = node.next?.get(name)?.next?.get(labels[name]);
      if (node === undefined) return -1;
    }
    return node.id;
  }

  /** Remembers a path to `id`, unless the series has `MAX_PATHS_PER_SERIES` already. */
  remember(agentId: string, metricName: string, labels: Labels, id: number): void {
    if (id >= this.#paths.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.#paths.length * 2));
      grown.set(this.#paths);
      this.#paths = grown;
    }
    if (this.#paths[id] >= MAX_PATHS_PER_SERIES) return;
    this.#paths[id]++;
    let node = this.#root.child(agentId).child(metricName);
    for (const name in labels) node = node.child(name).child(labels[name]);
    node.id = id;
  }

  clear(): void {
    this.#root = new Node();
    this.#paths.fill(0);
    this.#lastAgent = undefined;
  }
}
