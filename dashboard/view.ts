/**
 * A view is one page as the user sees it: from the moment the router renders it into `#view`
 * until the user leaves (another address, Back, a theme change, a 401). The element is shared by
 * every view in turn, so an answer that arrives after the user moved on must not be drawn: it
 * would put the old page's rows, messages, address or `data-ready` into the new one. The rule
 * lives here, once:
 *
 * - the router makes a `View` per render and calls `leave()` before the next one;
 * - a page runs each kind of load (its data, a history page) through a `Loads` of its view:
 *   starting a load aborts the one before, and leaving the view aborts them all;
 * - `api()` rejects with an `AbortError` once its signal is aborted, even when the answer had
 *   already arrived, and a load checks `signal.aborted` after every other `await` before it
 *   writes anything.
 */
export class View {
  /** The element the page renders into (`#view`). */
  readonly root: HTMLElement;
  readonly #shown = new AbortController();

  constructor(root: HTMLElement) {
    this.root = root;
  }

  /** Aborts when the user leaves the view. */
  get signal(): AbortSignal {
    return this.#shown.signal;
  }

  /** Runs `cleanup` (stop timers, free charts) when the user leaves the view. */
  onLeave(cleanup: () => void): void {
    if (this.#shown.signal.aborted) cleanup();
    else this.#shown.signal.addEventListener("abort", cleanup, { once: true });
  }

  /** The router's: the user left, or the view is rendered anew. */
  leave(): void {
    this.#shown.abort();
  }
}

/** One kind of load of a view, one at a time: a newer load, or leaving the view, aborts it. */
export class Loads {
  readonly #view: View;
  #current: AbortController | undefined;

  constructor(view: View) {
    this.#view = view;
    view.onLeave(() => this.#current?.abort());
  }

  /**
   * Starts a load and aborts the one before. The signal aborts when the next load starts or the
   * user leaves the view: pass it to `api()` and check it after every `await`.
   */
  start(): AbortSignal {
    this.#current?.abort();
    this.#current = new AbortController();
    if (this.#view.signal.aborted) this.#current.abort();
    return this.#current.signal;
  }
}
