/** A tiny element builder: `h("a", { href: "#/" }, "Overview")`. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.replace(/^on/, ""), value);
    } else if (name === "className") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: (Child | Child[])[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** A banner saying what went wrong (or what is missing), in place of a blank area. */
export function message(kind: "error" | "info" | "empty", text: string, ...extra: Child[]) {
  return h("div", { className: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, [
    text,
    ...extra,
  ]);
}

/**
 * A decorative canvas of `width`×`height` CSS pixels drawn at the screen's pixel density, with
 * its 2D context (null when the browser gives none) scaled so that drawing counts CSS pixels.
 */
export function pixelCanvas(
  width: number,
  height: number,
  options: { className: string; title?: string },
): { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D | null } {
  const canvas = document.createElement("canvas");
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.className = options.className;
  canvas.setAttribute("aria-hidden", "true");
  if (options.title) canvas.title = options.title;
  const context = canvas.getContext("2d");
  context?.scale(ratio, ratio);
  return { canvas, context };
}
