import emojiRegex from "emoji-regex";
import { stripMarkdown } from "./markdown-text.js";

/**
 * Text emoticons, matched only as whole tokens (start/end of text or next to
 * white space), so that times (10:30), ratios, URLs (http://…) and ordinary
 * punctuation survive. Western faces: optional hat, eyes, optional nose,
 * mouth; e.g. :) ;P :-D =/ :'( XD >:( ^_^ ^^ T_T o_O.
 */
const EMOTICON = new RegExp(
  String.raw`(?<=^|\s)(?:` +
    [
      String.raw`[>}\]]?(?:[:;=]|8(?=-))['’]?[-^o]?[)(\]\[DPpOo3/\\|*$@xX>}{<]+`, // :) ;P :-D =/ :'( 8-) :3 :* :$
      String.raw`[)(\]\[DPpOo/\\|*<>{}]+[-^o]?[:;=]`, // reversed: (: D: ):
      "[xX][DdPp(]+(?![A-Za-z])", // XD xP
      String.raw`<\/?3+`, // <3 </3
      String.raw`[\^><oOTt;-]_+[\^><oOTt;-]`, // ^_^ >_< o_O T_T -_-
      String.raw`\^\^+`, // ^^
      String.raw`\(?[\^T][._][\^T]\)?`, // (^.^) T.T
    ].join("|") +
    String.raw`)(?=$|\s|[,.!?，。！？])`,
  "gu",
);

/**
 * Emoticons glued to CJK text (`好开心:)`, `哈哈XD`), where no space separates
 * words. Only unambiguous faces: a mouth of ) ( D P or a ^_^ / ^^ face, so
 * `价格:3元` and `比分3:0` survive.
 */
const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}，。！？、；：～…`;
const CJK_EMOTICON = new RegExp(
  String.raw`(?<=[${CJK}])(?:[:;=]['’]?-?[)(DP]+|XD+|\^_*\^)(?=$|\s|[${CJK}]|[,.!?~])`,
  "gu",
);

/** Keycap sequences (1️⃣ #️⃣): keep the character, drop the keycap. */
const KEYCAP = /([0-9#*])\uFE0F?\u20E3/g;

const EMOJI = emojiRegex();

/**
 * Makes a model's reply fit for speech: strips Markdown markup (see
 * `stripMarkdown`: a link becomes its text), emoji and text emoticons, and
 * tidies the white space they leave behind. Chinese and English text,
 * punctuation, URLs and times like 10:30 are left intact.
 */
export function filterReply(text: string): string {
  return filterText(text, "", "");
}

/**
 * The characters just outside a segment, in the reply it was cut from: an
 * emoticon is only a whole token when what borders it is white space or
 * the reply's start or end, so a segment's edges are not such borders unless
 * the reply has white space (or nothing) there.
 */
export interface SegmentContext {
  /** The reply's character just before the segment; "" at the reply's start. */
  before?: string;
  /** The reply's character just after the segment; "" at the reply's end or when not yet known. */
  after?: string;
}

/**
 * One segment of a streamed reply made fit for speech, the way
 * {@link filterReply} treats the whole reply; "" when nothing is left to say
 * (no letter or digit: an emoji, a code fence, a row of dashes), so the
 * segment is not sent.
 */
export function filterSegment(segment: string, { before = "", after = "" }: SegmentContext = {}): string {
  const filtered = filterText(segment, standIn(before, false), standIn(after, true));
  return /[\p{L}\p{N}]/u.test(filtered) ? filtered : "";
}

/** Punctuation the emoticon patterns accept right after a face, standing in for itself. */
const AFTER_FACE = /^[,.!?，。！？~]$/u;
const CJK_CHAR = new RegExp(`^[${CJK}]$`, "u");

/**
 * A character no pattern consumes that borders the text the way `char` does:
 * nothing for white space or an edge, a Han character for CJK text, a Latin
 * letter for anything else (after the text, punctuation that may follow a face
 * stands for itself).
 */
function standIn(char: string, afterText: boolean): string {
  if (char === "" || char.trim() === "") return "";
  if (afterText && AFTER_FACE.test(char)) return char;
  return CJK_CHAR.test(char) ? "你" : "a";
}

function filterText(text: string, before: string, after: string): string {
  if (text === "") return text;
  const markdownFree = stripMarkdown(text);
  const bordered = `${before}${markdownFree}${after}`;
  const replaced = bordered.replace(KEYCAP, "$1").replace(EMOJI, "").replace(EMOTICON, "").replace(CJK_EMOTICON, "");
  // The stand-ins are letters or punctuation that no pattern consumes; should one ever be, filter without them.
  if (!replaced.startsWith(before) || !replaced.endsWith(after)) return filterText(text, "", "");
  const stripped = replaced.slice(before.length, replaced.length - after.length);
  if (stripped === text) return text;
  return stripped
    .replace(/[ \t]{2,}/g, " ")
    .replace(/[ \t]+([,.!?，。！？])/g, "$1")
    .replace(/([，。！？、；：])[ \t]+/g, "$1")
    .replace(/[ \t]+$/gm, "")
    .replace(/^[ \t]+/gm, "")
    .trim();
}
