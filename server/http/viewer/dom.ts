/** Small DOM helpers: typed lookups and element construction without innerHTML. */

/** The element matching `selector`; throws when the page lacks it (a template bug). */
export function $<T extends HTMLElement = HTMLElement>(
  selector: string,
  root: ParentNode = document,
): T {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`viewer: missing element ${selector}`);
  return el;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/** Creates an element with attributes (`class`, `data-*`, …) and text or element children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? "" : String(v));
  }
  e.append(...children);
  return e;
}

/** Sets text only when it changed (keeps layout work down at 10 Hz panel updates). */
export function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

/** Formats bit/s as Mbit/s. */
export function mbps(bps: number): string {
  return `${(bps / 1e6).toFixed(1)} Mbit/s`;
}
