import { describe, expect, it } from "vitest";
import { stripMarkdown } from "./markdown-text.js";

describe("stripMarkdown", () => {
  it.each([
    // [Markdown from a model, what a listener should hear]
    ["# Title", "Title"],
    ["### 第三节 ###", "第三节"],
    ["- first\n* second\n+ third\n• fourth", "first\nsecond\nthird\nfourth"],
    ["- [x] done\n- [ ] todo", "done\ntodo"],
    ["> quoted\n> > nested", "quoted\nnested"],
    ["**bold** and __strong__ and ~~gone~~", "bold and strong and gone"],
    ["*em* and _em_ here", "em and em here"],
    ["这是**重点**内容", "这是重点内容"],
    ["Use `npm install` now", "Use npm install now"],
    ['See [the docs](https://example.com/docs "Docs") and ![a cat](cat.png).', "See the docs and a cat."],
    ["Link [text][ref] here", "Link text here"],
    ["Go to <https://example.com>", "Go to https://example.com"],
    ["```ts\nconst a = 1;\n```", "const a = 1;"],
    ["~~~\ncode\n~~~", "code"],
    ["before\n---\nafter", "before\nafter"],
    ["| a | b |\n|---|:-:|\n| 1 | 2 |", "| a | b |\n| 1 | 2 |"],
    ["**half a span", "half a span"],
    ["the other half**", "the other half"],
    ["*started", "started"],
    ["ended*.", "ended."],
  ])("%j", (markdown, spoken) => {
    expect(stripMarkdown(markdown)).toBe(spoken);
  });

  it.each([
    "snake_case_name and a_b_c",
    "2 * 3 = 6 and 2*3 = 6",
    "C++ and C# are languages.",
    "A - B is a range; -5 is negative.",
    'He said "hi" (quietly) - then left...',
    "Use std::vector<int> in C++; it's fine.",
    "价格:3元，比分3:0。",
    "1. First\n2. Second",
    "email: a_b@example.com",
  ])("leaves ordinary text intact: %j", (text) => {
    expect(stripMarkdown(text)).toBe(text);
  });
});
