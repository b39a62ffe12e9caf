/** A page renders into the main area and stops its timers and requests when left. */
export interface Page {
  dispose(): void;
}
