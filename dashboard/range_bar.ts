/**
 * The range controls of the chart pages (an agent, a check): preset buttons, a typed from–to
 * range, Pause for the 10 s refresh of a preset range, and a line saying when the charts were
 * last updated. The page owns the range; the bar shows it and reports what the user picked.
 */
import { h, message, replace } from "./dom.ts";
import { presetRange, PRESETS, type TimeRange } from "./range.ts";

export interface RangeBarOptions {
  onRange(next: TimeRange): void;
  onPause(paused: boolean): void;
  /** Where a typed range that cannot be used is explained. */
  errorBox: HTMLElement;
}

function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 19);
}

export class RangeBar {
  readonly element: HTMLElement;
  /** "Updated 12:00:03 · step 1 s", or why the refresh failed. */
  readonly updated: HTMLElement;
  readonly #presetButtons: HTMLButtonElement[];
  readonly #fromInput: HTMLInputElement;
  readonly #toInput: HTMLInputElement;
  readonly #pauseButton: HTMLButtonElement;
  #paused = false;

  constructor(options: RangeBarOptions) {
    this.updated = h("span", { className: "updated", role: "status" });
    this.#presetButtons = Object.keys(PRESETS).map((preset) =>
      h("button", {
        type: "button",
        "data-range": preset,
        onclick: () => options.onRange(presetRange(preset, Date.now())),
      }, preset)
    );
    this.#fromInput = h("input", { type: "datetime-local", step: 1, "aria-label": "From" });
    this.#toInput = h("input", { type: "datetime-local", step: 1, "aria-label": "To" });
    const custom = h(
      "form",
      {
        className: "custom-range",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const fromMs = new Date(this.#fromInput.value).getTime();
          const toMs = new Date(this.#toInput.value).getTime();
          if (!(fromMs < toMs)) {
            replace(options.errorBox, message("error", "Pick a start time before the end time."));
            return;
          }
          replace(options.errorBox);
          options.onRange({ kind: "custom", fromMs, toMs });
        },
      },
      this.#fromInput,
      "–",
      this.#toInput,
      h("button", { type: "submit" }, "Apply"),
    );
    this.#pauseButton = h("button", {
      type: "button",
      id: "pause",
      onclick: () => options.onPause(!this.#paused),
    });
    this.element = h(
      "div",
      { className: "toolbar range-bar" },
      h("div", { className: "presets", role: "group", "aria-label": "Range" }, this.#presetButtons),
      custom,
      this.#pauseButton,
      this.updated,
    );
  }

  /** Shows `range` as the pressed preset (or in the from–to fields) and the pause state. */
  render(range: TimeRange, paused: boolean): void {
    this.#paused = paused;
    for (const button of this.#presetButtons) {
      const pressed = range.kind === "preset" && range.preset === button.dataset.range;
      button.setAttribute("aria-pressed", String(pressed));
    }
    this.#fromInput.value = toLocalInput(range.fromMs);
    this.#toInput.value = toLocalInput(range.toMs);
    this.#pauseButton.textContent = range.kind === "custom"
      ? "Fixed range"
      : paused
      ? "▶ Resume"
      : "❚❚ Pause";
    this.#pauseButton.disabled = range.kind === "custom";
    this.#pauseButton.setAttribute("aria-pressed", String(paused));
  }
}
