/**
 * How deep a JSON text nests, found by scanning the text before it is
 * parsed: a config or body nested 10,000 deep parses, but anything that then
 * walks it recursively (JSON.stringify building a message, a logger, a
 * structured clone) overflows the stack. Configs and bodies here are flat.
 */

/** Nesting depth accepted in a client's JSON (a flat object is depth 1). */
export const MAX_JSON_DEPTH = 32;

/** True when `text` opens more than `maxDepth` arrays or objects inside one another. Linear time. */
export function jsonTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}
