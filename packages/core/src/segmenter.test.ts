import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_SEGMENT_LENGTH, MIN_MAX_SEGMENT_LENGTH, Segmenter, segmentText } from "./segmenter.js";
import { textWidth } from "./text-width.js";

/** The segments of `text` when it arrives one code unit per delta (the finest split there is). */
function segmentByUnit(text: string, options = {}): string[] {
  const segmenter = new Segmenter(options);
  const segments: string[] = [];
  for (let index = 0; index < text.length; index++) segments.push(...segmenter.push(text.slice(index, index + 1)));
  return [...segments, ...segmenter.flush()];
}

describe("segmentText: Chinese, Japanese, English and mixed text", () => {
  // [reply text, the segments text-to-speech gets] with the default lengths (first segment may end at a clause mark
  // from width 20, a CJK character counting 2; segments wider than 160 are cut).
  const cases: [string, string[]][] = [
    ["你好！我是小助手。", ["你好！", "我是小助手。"]],
    ["今天天气很好。我们去公园吧？好啊！", ["今天天气很好。", "我们去公园吧？", "好啊！"]],
    ["他说：「你好。」然后走了。", ["他说：「你好。」", "然后走了。"]],
    ["『ありがとう。』と彼女は言った。", ["『ありがとう。』", "と彼女は言った。"]],
    ["真的吗？！太好了……我等不及了。", ["真的吗？！", "太好了……", "我等不及了。"]],
    ["圆周率约等于3.14。", ["圆周率约等于3.14。"]],
    ["会议在10:30开始。请准时到达。", ["会议在10:30开始。", "请准时到达。"]],
    ["请访问https://example.com/docs.html了解详情。", ["请访问https://example.com/docs.html了解详情。"]],
    ["我的邮箱是alice.wang@example.com，欢迎来信。", ["我的邮箱是alice.wang@example.com，", "欢迎来信。"]],
    ["第一行\n第二行\n\n第三行", ["第一行", "第二行", "第三行"]],
    [
      "这是一个非常非常长的句子没有任何标点符号它会一直持续下去直到超过最大长度为止然后被切断因为我们需要让语音合成尽快开始工作而不是等待整个句子结束这样用户体验会更好一些",
      [
        "这是一个非常非常长的句子没有任何标点符号它会一直持续下去直到超过最大长度为止然后被切断因为我们需要让语音合成尽快开始工作而不是等待整个句子结束这样用户体验会更好",
        "一些",
      ],
    ],
    [
      "今天的直播内容非常丰富，我们先来聊聊最近的新闻，然后玩一会儿游戏。",
      ["今天的直播内容非常丰富，", "我们先来聊聊最近的新闻，然后玩一会儿游戏。"],
    ],
    ["好的；我明白了；谢谢。", ["好的；", "我明白了；", "谢谢。"]],
    ["（笑）真的假的？", ["（笑）真的假的？"]],
    ["版本v2.1.0已经发布了！", ["版本v2.1.0已经发布了！"]],
    ["价格是¥99.9元。", ["价格是¥99.9元。"]],
    ["嗯", ["嗯"]],
    ["", []],
    ["   ", []],
    ["啊！！！", ["啊！！！"]],
    ["こんにちは。今日はいい天気ですね！", ["こんにちは。", "今日はいい天気ですね！"]],
    ["散歩に行きましょうか？はい、行きましょう。", ["散歩に行きましょうか？", "はい、行きましょう。"]],
    ["東京は日本の首都です。人口は約1400万人です。", ["東京は日本の首都です。", "人口は約1400万人です。"]],
    ["えっ、本当ですか？信じられない……", ["えっ、本当ですか？", "信じられない……"]],
    ["日本語の文章、ちょっと長めの文章を書いてみますね。", ["日本語の文章、ちょっと長めの文章を書いてみますね。"]],
    ["「はい」と答えた。", ["「はい」と答えた。"]],
    ["カタカナのテキスト。ひらがなのテキスト。", ["カタカナのテキスト。", "ひらがなのテキスト。"]],
    ["Hello there. How are you?", ["Hello there.", "How are you?"]],
    ["Mr. Smith went to Washington. He met Dr. Jones.", ["Mr. Smith went to Washington.", "He met Dr. Jones."]],
    ["Pi is about 3.14159. That's enough digits.", ["Pi is about 3.14159.", "That's enough digits."]],
    ["The meeting starts at 10:30. Don't be late!", ["The meeting starts at 10:30.", "Don't be late!"]],
    ["Version 1.2.3 is out. Please upgrade.", ["Version 1.2.3 is out.", "Please upgrade."]],
    [
      "For example, e.g. this one, is fine. And i.e. that too.",
      ["For example, e.g. this one,", "is fine.", "And i.e. that too."],
    ],
    [
      "The U.S. economy grew last year. Experts were surprised.",
      ["The U.S. economy grew last year.", "Experts were surprised."],
    ],
    [
      "Visit https://example.com/a.b?c=1 for details. Thanks!",
      ["Visit https://example.com/a.b?c=1 for details.", "Thanks!"],
    ],
    ["Email me at john.doe@example.org. I reply fast.", ["Email me at john.doe@example.org.", "I reply fast."]],
    ['He said, "Stop." Then he left.', ['He said, "Stop."', "Then he left."]],
    ["Really?! No way... Yes way.", ["Really?!", "No way...", "Yes way."]],
    ["(This is an aside.) Back to the point.", ["(This is an aside.)", "Back to the point."]],
    [
      "Well, I was thinking about it, and honestly, I'm not sure it's right for us right now.",
      ["Well, I was thinking about it,", "and honestly, I'm not sure it's right for us right now."],
    ],
    ["Line one\nLine two", ["Line one", "Line two"]],
    ["1. First item\n2. Second item", ["1. First item", "2. Second item"]],
    ["It costs $3. Cheap!", ["It costs $3.", "Cheap!"]],
    ["J. K. Rowling wrote it. I read it.", ["J. K. Rowling wrote it.", "I read it."]],
    ["So did I. Then we left.", ["So did I.", "Then we left."]],
    ["Wait", ["Wait"]],
    [
      "The quick brown fox jumps over the lazy dog and keeps on running through the forest and the fields and the meadows without ever stopping for a rest or a drink of water from the stream",
      [
        "The quick brown fox jumps over the lazy dog and keeps on running through the forest and the fields and the meadows without ever stopping for a rest or a drink",
        "of water from the stream",
      ],
    ],
    [
      "Numbers like 1,000,000 and ratios like 3:2 stay whole. Good.",
      ["Numbers like 1,000,000 and ratios like 3:2 stay whole.", "Good."],
    ],
    ["We sell apples, pears, etc. and more.", ["We sell apples, pears,", "etc. and more."]],
    ["It ends with a quote: 'done.' Next.", ["It ends with a quote:", "'done.'", "Next."]],
    ["Ph.D. students work hard. Very hard.", ["Ph.D. students work hard.", "Very hard."]],
    ["We met at 5 p.m. yesterday. It was fun.", ["We met at 5 p.m. yesterday.", "It was fun."]],
    ["Hi!", ["Hi!"]],
    ["我爱Python。It is great!", ["我爱Python。", "It is great!"]],
    ["这是version 2.0版本。Very nice.", ["这是version 2.0版本。", "Very nice."]],
    ["我用ChatGPT写代码, 效率很高.真的!", ["我用ChatGPT写代码, 效率很高.", "真的!"]],
    ["OK，我们开始吧！First, let's check the mic.", ["OK，我们开始吧！", "First, let's check the mic."]],
    ["你好 world! 这是mixed text。", ["你好 world!", "这是mixed text。"]],
    ["他在U.S.工作。后来回国了。", ["他在U.S.工作。", "后来回国了。"]],
    ["请看README.md文件。Thanks.", ["请看README.md文件。", "Thanks."]],
    ["今天是2024.05.01，天气晴。", ["今天是2024.05.01，天气晴。"]],
    ["Hello，世界。", ["Hello，世界。"]],
    ["I said「こんにちは」. She smiled.", ["I said「こんにちは」.", "She smiled."]],
    ["東京 is the capital. 北京也是首都。", ["東京 is the capital.", "北京也是首都。"]],
    ["AI助手：你好！How can I help?", ["AI助手：你好！", "How can I help?"]],
    ["## 标题\n- 第一点\n- 第二点", ["## 标题", "- 第一点", "- 第二点"]],
    ["Go to **the store**. Buy *milk*.", ["Go to **the store**.", "Buy *milk*."]],
    ["这个表情😊很可爱。Next one 🎉!", ["这个表情😊很可爱。", "Next one 🎉!"]],
  ];

  it("has at least 60 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)("%j", (text, expected) => {
    expect(segmentText(text)).toEqual(expected);
    expect(segmentByUnit(text)).toEqual(expected);
  });
});

describe("Segmenter while streaming", () => {
  it("gives a segment as soon as the delta after its end arrives, and the rest on flush", () => {
    const segmenter = new Segmenter();
    expect(segmenter.push("你好！我")).toEqual(["你好！"]);
    expect(segmenter.push("是小助手")).toEqual([]);
    expect(segmenter.flush()).toEqual(["我是小助手"]);
  });

  it("holds a full stop at the end of a delta until the next delta decides it", () => {
    const segmenter = new Segmenter();
    expect(segmenter.push("Pi is 3.")).toEqual([]);
    expect(segmenter.push("14. Next one.")).toEqual(["Pi is 3.14."]);
    expect(segmenter.push(" Mr.")).toEqual(["Next one."]);
    expect(segmenter.push(" Smith")).toEqual([]);
    expect(segmenter.flush()).toEqual(["Mr. Smith"]);
  });

  it("keeps a closing bracket that arrives in the next delta", () => {
    const segmenter = new Segmenter();
    expect(segmenter.push("「你好。")).toEqual([]);
    expect(segmenter.push("」他说")).toEqual(["「你好。」"]);
    expect(segmenter.flush()).toEqual(["他说"]);
  });

  it("never splits a character whose surrogate halves arrive in two deltas", () => {
    const text = "𠮷".repeat(100); // a CJK extension B character: two UTF-16 code units, width 2
    const segments = segmentByUnit(text);
    expect(segments.join("")).toBe(text);
    for (const segment of segments) expect(segment).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    expect(segments[0]).toBe("𠮷".repeat(DEFAULT_MAX_SEGMENT_LENGTH / 2));
  });

  it("ends only the first segment early at a clause mark", () => {
    const text = "First of all, thank you for coming, everyone, it means a lot to all of us here tonight.";
    expect(segmentText(text)).toEqual([
      "First of all, thank you for coming,",
      "everyone, it means a lot to all of us here tonight.",
    ]);
    expect(segmentText(text, { firstMinLength: 200 })).toEqual([text]);
  });

  it("cuts a segment wider than maxLength at its last clause mark, else its last space, else anywhere", () => {
    const clauses = "aaaa bbbb cccc dddd eeee, ffff gggg hhhh iiii jjjj kkkk";
    expect(segmentText(clauses, { maxLength: 40, firstMinLength: 100 })).toEqual([
      "aaaa bbbb cccc dddd eeee,",
      "ffff gggg hhhh iiii jjjj kkkk",
    ]);
    // A clause mark that would leave less than half the width goes unused; the last space is taken instead.
    const early = "aaaa bbbb cccc, dddd eeee ffff gggg hhhhhh iiii";
    expect(segmentText(early, { maxLength: 40, firstMinLength: 100 })).toEqual([
      "aaaa bbbb cccc, dddd eeee ffff gggg",
      "hhhhhh iiii",
    ]);
    const exact = "aaaa bbbb cccc, dddd eeee ffff gggg hhhh iiii";
    expect(segmentText(exact, { maxLength: 40, firstMinLength: 100 })).toEqual([
      "aaaa bbbb cccc, dddd eeee ffff gggg hhhh",
      "iiii",
    ]);
    expect(segmentText("x".repeat(100), { maxLength: 40 })).toEqual(["x".repeat(40), "x".repeat(40), "x".repeat(20)]);
    expect(segmentText("字".repeat(30), { maxLength: 40 })).toEqual(["字".repeat(20), "字".repeat(10)]);
  });

  it("keeps every segment within maxLength (plus closing marks)", () => {
    const text =
      "这是一段没有句号的很长的文字，它一直写下去、写下去、写下去，" +
      "and then it switches to English words without any stop at all for a very long time indeed";
    for (const segment of segmentText(text, { maxLength: 40 })) expect(textWidth(segment)).toBeLessThanOrEqual(40);
  });

  it("bounds what it holds when the input never ends a sentence", () => {
    const segmenter = new Segmenter({ maxLength: 40 });
    let out = 0;
    for (let index = 0; index < 1000; index++) out += segmenter.push("......").length;
    expect(out).toBeGreaterThan(100);
    expect(segmenter.flush().join("").length).toBeLessThanOrEqual(40);
  });

  it("rejects lengths that would cut ordinary sentences", () => {
    expect(() => new Segmenter({ maxLength: MIN_MAX_SEGMENT_LENGTH - 1 })).toThrow(RangeError);
    expect(() => new Segmenter({ firstMinLength: 0 })).toThrow(RangeError);
    expect(() => new Segmenter({ maxLength: Number.NaN })).toThrow(RangeError);
    expect(DEFAULT_MAX_SEGMENT_LENGTH).toBeGreaterThanOrEqual(40);
  });
});

describe("Segmenter with filter", () => {
  it.each([
    ["## 今日の予定\n- 歌枠 🎤\n- 雑談", ["今日の予定", "歌枠", "雑談"]],
    ["Go to **the store**. Buy *milk* 🥛!", ["Go to the store.", "Buy milk!"]],
    ["See [the docs](https://example.com/docs). ```\n```", ["See the docs."]],
    ["```python\nprint('hi')\n```\nDone 👍", ["print('hi')", "Done"]],
    ["😊🎉\n你好呀！:)", ["你好呀！"]],
    ["**Bold sentence one. Bold two.**", ["Bold sentence one.", "Bold two."]],
    ["---\n> 引用的话。", ["引用的话。"]],
    // Found by the property test: a segment's start is not the reply's start, so `;3` after `？` is no face.
    ["？;3.14", [";3.14"]],
    ["？:3.14 ok", [":3.14 ok"]],
    ["好！XD 你好。", ["好！", "你好。"]],
  ])("%j", (text, expected) => {
    expect(segmentText(text, { filter: true })).toEqual(expected);
    expect(segmentByUnit(text, { filter: true })).toEqual(expected);
  });

  it("lets the first spoken segment end early even when an unspeakable one came before it", () => {
    expect(segmentText("🎉🎉\n大家晚上好，欢迎来到今天的直播间，我们马上开始。", { filter: true })).toEqual([
      "大家晚上好，欢迎来到今天的直播间，",
      "我们马上开始。",
    ]);
  });
});

describe("Segmenter on hostile input", () => {
  it("segments a megabyte without sentence ends, given in one delta, into segments of the maximum width", () => {
    const text = "字".repeat(500_000) + "x".repeat(500_000);
    const segments = segmentText(text);
    expect(segments.join("")).toBe(text);
    expect(segments.length).toBe(500_000 / 80 + Math.ceil(500_000 / 160));
  });
});
