// deno-lint-ignore-file no-explicit-any -- page functions reach the DOM through untyped values:
// this file is type-checked without the DOM library.
/**
 * What the browser tests read off a dashboard page as a person would see it (drawn pixels of a
 * chart or sparkline), and the screenshots they save: light and dark, desktop and phone width,
 * into tests/screenshots/ (the README's screenshots are copied from there).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";

export const SCREENSHOT_DIR = new URL("../screenshots/", import.meta.url);

/** Pixels of a chart's canvas close to one of its series' colours: drawn lines, not a grid. */
export function linePixels(page: Page, chart: string): Promise<number> {
  return page.$eval(`[data-chart="${chart}"]`, (card) => {
    const colors = [...card.querySelectorAll(".legend .swatch")].map((swatch: any) =>
      swatch.style.background.match(/\d+/g).map(Number)
    );
    const canvas = card.querySelector("canvas") as any;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 200) continue;
      const near = colors.some(([r, g, b]: number[]) =>
        Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60
      );
      if (near) count++;
    }
    return count;
  });
}

/** How many pixel columns of a sparkline hold its line's colour, and its width. */
export function sparkColumns(
  page: Page,
  selector: string,
): Promise<{ columns: number; width: number }> {
  return page.$eval(selector, (canvas: any) => {
    const { width, height } = canvas;
    const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    let columns = 0;
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        if (data[(y * width + x) * 4 + 3] >= 200) {
          columns++;
          break;
        }
      }
    }
    return { columns, width };
  });
}

export async function screenshots(page: Page, name: string) {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    await setColorScheme(page, scheme);
    for (const [width, label] of [[1280, "desktop"], [390, "phone"]] as const) {
      await page.setViewportSize({ width, height: label === "phone" ? 844 : 900 });
      await page.waitForTimeout(150); // a resize and a theme redraw are one frame each
      const path = new URL(`${name}-${scheme}-${label}.png`, SCREENSHOT_DIR).pathname;
      await page.screenshot({ path, fullPage: label === "desktop" });
      const png = await Deno.readFile(path);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], `${path} is a PNG`);
    }
  }
  await setColorScheme(page, "light");
  await page.setViewportSize({ width: 1280, height: 900 });
}

/**
 * Runs `change` (a `goto`, a click, a theme switch) and waits until the view it brings up is
 * loaded (`data-ready` or `data-drawn`, dashboard/main.ts). A `goto` that changes only the hash
 * returns before the page has handled it, and the view before — often the same page, drawn — is
 * still there: its children are marked first, and only a view without them counts.
 */
export async function showView(page: Page, change: () => Promise<unknown>): Promise<void> {
  await page.evaluate(() => {
    const view = (globalThis as any).document.querySelector("#view");
    for (const child of view?.children ?? []) child.dataset.oldView = "";
  });
  await change();
  await page.waitForFunction(() => {
    const view = (globalThis as any).document.querySelector("#view");
    return view !== null && view.querySelector("[data-old-view]") === null &&
      (view.dataset.ready === "true" || view.dataset.drawn === "true");
  });
}

/** `page.goto(url)`, then waits for the view at `url` to be loaded (see `showView`). */
export function gotoView(page: Page, url: string): Promise<void> {
  return showView(page, () => page.goto(url));
}

/**
 * Switches the emulated theme and waits for the page to be drawn again: a theme change renders
 * the page anew from fresh data (`dashboard/main.ts`), so until then its tables and charts are
 * missing or stale, and a step that reads them races the reload.
 */
async function setColorScheme(page: Page, scheme: "light" | "dark") {
  const dark = scheme === "dark";
  const flips = await page.evaluate(
    (dark: boolean) =>
      (globalThis as any).matchMedia("(prefers-color-scheme: dark)").matches !== dark,
    dark,
  );
  if (flips) await showView(page, () => page.emulateMedia({ colorScheme: scheme }));
  else await page.emulateMedia({ colorScheme: scheme });
}

/**
 * Pixels of a canvas near each of the page's theme colours, given as CSS variables
 * (`["--ok", "--bad"]`): what a strip of up and down runs shows.
 */
export function themePixels(
  page: Page,
  selector: string,
  variables: string[],
): Promise<Record<string, number>> {
  return page.$eval(selector, (canvas: any, names: string[]) => {
    const style = (globalThis as any).getComputedStyle(
      (globalThis as any).document.documentElement,
    );
    const rgb = (hex: string) => {
      const text = hex.trim().replace("#", "");
      return [0, 2, 4].map((at) => parseInt(text.slice(at, at + 2), 16));
    };
    const colors = names.map((name) => rgb(style.getPropertyValue(name)));
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = names.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 200) continue;
      colors.forEach(([r, g, b], c) => {
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) {
          counts[c]++;
        }
      });
    }
    return Object.fromEntries(names.map((name, c) => [name, counts[c]]));
  }, variables);
}
