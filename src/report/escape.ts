/**
 * Escaping for text that comes from scenario files (names, titles,
 * summaries, sources, rules): everything put into HTML, SVG or Markdown
 * goes through here, so a device called `<script>` renders as text.
 */

/** Text content and attribute values (double- or single-quoted) in HTML and SVG. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A string safe as an id or class fragment: anything but [A-Za-z0-9_-] becomes `_` plus its code. */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}`);
}

/** An http(s) URL as a link, anything else as escaped text. */
export function linkify(text: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) {
    parts.push(esc(text.slice(last, match.index)));
    const url = match[0].replace(/[.,;:]+$/, '');
    parts.push(`<a href="${esc(url)}" rel="noreferrer">${esc(url)}</a>`);
    last = match.index + url.length;
  }
  parts.push(esc(text.slice(last)));
  return parts.join('');
}

/**
 * Text inside Markdown (GitHub renders inline HTML, so `<`, `>` and `&` are
 * entities) and, in tables, `|` escaped; line breaks become spaces.
 */
export function md(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/[`*_[\]]/g, (c) => `\\${c}`).replace(/\s*\n\s*/g, ' ');
}
