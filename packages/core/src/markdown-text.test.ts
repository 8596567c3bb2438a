import { describe } from "vitest";
import { describeSpeechFilter, type SpokenExamples } from "../test/speech-filter-suite.js";
import { stripMarkdown } from "./markdown-text.js";

/** [Markdown from a model, what a listener should hear], by what the filter does to it. */
const SPOKEN: SpokenExamples = {
  "line marks go, the line stays": [
    ["# Title", "Title"],
    ["### 第三节 ###", "第三节"],
    ["- first\n* second\n+ third\n• fourth", "first\nsecond\nthird\nfourth"],
    ["- [x] done\n- [ ] todo", "done\ntodo"],
    ["> quoted\n> > nested", "quoted\nnested"],
  ],
  "emphasis and code marks go, the words stay": [
    ["**bold** and __strong__ and ~~gone~~", "bold and strong and gone"],
    ["*em* and _em_ here", "em and em here"],
    ["这是**重点**内容", "这是重点内容"],
    ["Use `npm install` now", "Use npm install now"],
  ],
  "links and images become their text": [
    ['See [the docs](https://example.com/docs "Docs") and ![a cat](cat.png).', "See the docs and a cat."],
    ["Link [text][ref] here", "Link text here"],
    ["Go to <https://example.com>", "Go to https://example.com"],
  ],
  "lines of markup go, code and table rows stay": [
    ["```ts\nconst a = 1;\n```", "const a = 1;"],
    ["~~~\ncode\n~~~", "code"],
    ["before\n---\nafter", "before\nafter"],
    ["| a | b |\n|---|:-:|\n| 1 | 2 |", "| a | b |\n| 1 | 2 |"],
  ],
  "half a span (cut at a segment's edge) loses its marker": [
    ["**half a span", "half a span"],
    ["the other half**", "the other half"],
    ["*started", "started"],
    ["ended*.", "ended."],
  ],
};

describe("stripMarkdown", () => {
  describeSpeechFilter(stripMarkdown, SPOKEN);
});
