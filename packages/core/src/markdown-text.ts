/**
 * Markdown markup → the text a listener should hear. Models format replies
 * with Markdown even when asked not to; text-to-speech engines then read out
 * "asterisk asterisk" or "hash". Works line by line, so it gives the same
 * result on a whole reply and on the segments the segmenter cuts from it
 * (a segment never spans a newline); markers left unpaired because a span of
 * emphasis was cut between two segments are removed too.
 */

/** Lines that are nothing but markup: code fences (```ts, ~~~), horizontal rules (---, ***), table rulers (|---|:-:|). */
const MARKUP_LINE =
  /^[ \t]*(?:(?:`{3,}|~{3,})[\w+#.-]*[ \t]*|(?:[-*_][ \t]*){3,}|\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?)$/;

/** Line prefixes: block quotes, headings, bullets (-, *, +, •) and task boxes. */
const LINE_PREFIX = /^[ \t]*(?:>[ \t]?)*[ \t]*(?:#{1,6}[ \t]+|[-*+•][ \t]+(?:\[[ xX]\][ \t]+)?)?/;

/** Closing hashes of a heading ("## Title ##"). */
const HEADING_CLOSE = /[ \t]+#+[ \t]*$/;

/** Images and links → their text: ![alt](src), [text](url "title"), [text][ref]. */
const IMAGE_OR_LINK = /!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+"[^"\n]*")?\)|!?\[([^\]\n]+)\]\[[^\]\n]*\]/g;

/** Autolinks <https://…> → the address. */
const AUTOLINK = /<((?:https?|mailto):[^>\s]+)>/g;

/** Inline code `x` and ``x`` → x. */
const INLINE_CODE = /(`+)([^`\n]+?)\1/g;

/** Paired emphasis: **x**, __x__, ~~x~~, *x*, _x_ (underscores only at word edges, so snake_case survives). */
const STRONG = /(\*\*|__|~~)(?=\S)([^\n]*?\S)\1/g;
const EMPHASIS_STAR = /\*(?=[^\s*])([^*\n]*?[^\s*])\*/g;
const EMPHASIS_UNDERSCORE = /(?<![\p{L}\p{N}_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/gu;

/** Emphasis markers left unpaired (a span cut between segments): at a word's edge, never between spaces (2 * 3 stays). */
const STRAY_MARKERS = /(?:\*\*|__|~~)|(?<=^|\s)\*(?=[^\s*])|(?<=[^\s*])\*(?=$|[\s\p{P}])|`+/gu;

/** Removes Markdown markup from one line. */
function stripLine(line: string): string {
  if (MARKUP_LINE.test(line)) return "";
  const prefix = LINE_PREFIX.exec(line)?.[0] ?? "";
  let text = line.slice(prefix.length);
  if (/#/.test(prefix)) text = text.replace(HEADING_CLOSE, "");
  return text
    .replace(INLINE_CODE, "$2")
    .replace(
      IMAGE_OR_LINK,
      (_match, inline: string | undefined, reference: string | undefined) => inline ?? reference ?? "",
    )
    .replace(AUTOLINK, "$1")
    .replace(STRONG, "$2")
    .replace(EMPHASIS_STAR, "$1")
    .replace(EMPHASIS_UNDERSCORE, "$1")
    .replace(STRAY_MARKERS, "");
}

/**
 * The text of Markdown, as it would be read aloud: headings, bullets, block
 * quotes, code fences, rules, emphasis and inline-code markers removed, links
 * and images replaced by their text. Lines that were only markup become empty
 * (and are dropped); other lines keep their order and line breaks.
 */
export function stripMarkdown(text: string): string {
  if (!/[*_~`#>\-+•|[<]/.test(text)) return text;
  const lines = text.split("\n");
  const kept: string[] = [];
  for (const line of lines) {
    const stripped = stripLine(line);
    if (stripped.trim() === "" && line.trim() !== "") continue;
    kept.push(stripped);
  }
  return kept.join("\n");
}
