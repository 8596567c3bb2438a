import { describe, expect, it } from "vitest";
import { filterReply, filterSegment } from "./reply-filter.js";

describe("filterReply", () => {
  it.each([
    // [reply from a model, what text-to-speech should get]
    ["你好呀！今天的直播好开心😊🎉", "你好呀！今天的直播好开心"],
    ["Hello everyone! 👋 Welcome to the stream :)", "Hello everyone! Welcome to the stream"],
    ["谢谢你的礼物！❤️ 爱你哦~", "谢谢你的礼物！爱你哦~"],
    ["今天好开心:)", "今天好开心"],
    ["哈哈XD太好笑了", "哈哈太好笑了"],
    ["晚安^_^。", "晚安。"],
    ["1️⃣ 先准备好 2️⃣ 再开始", "1 先准备好 2 再开始"],
    ["That's hilarious XD I can't stop laughing", "That's hilarious I can't stop laughing"],
    ["Sure thing ;P see you tomorrow", "Sure thing see you tomorrow"],
    ["Oh no :-( that's sad", "Oh no that's sad"],
    ["Wow :-D amazing!", "Wow amazing!"],
    ["Hmm =/ not sure", "Hmm not sure"],
    ["I'm crying :'( so touching", "I'm crying so touching"],
    ["Yay ^_^ let's go", "Yay let's go"],
    ["好的 ^^ 马上开始", "好的 马上开始"],
    ["Love you all <3", "Love you all"],
    ["Cool 8-) right", "Cool right"],
    ["👍", ""],
    ["家人们晚上好🌙✨，我们开始吧！", "家人们晚上好，我们开始吧！"],
    ["Flags 🇨🇳🇯🇵 and families 👨‍👩‍👧 and skin tones 👋🏽 go too.", "Flags and families and skin tones go too."],
  ])("%s", (reply, spoken) => {
    expect(filterReply(reply)).toBe(spoken);
  });

  it.each([
    "The stream starts at 10:30 tonight, and ends at 12:00.",
    "See https://example.com/a:b?x=1 for details.",
    "Ratio 3:2, list: apples; bananas (ripe) and pears.",
    "第一：准备好；第二：开始直播。",
    'He said "hi" (quietly) - then left...',
    "Use std::vector<int> in C++; it's fine.",
    "价格是 ¥100，时间是 8:00。",
    "价格:3元，比分3:0，时间12:30开始。",
    "请看第(1)条和第(2)条。",
    "Scores: 3:0 and 2:1!",
    "Number 8) is the last item.",
    "Call me at +1 (555) 010-9999.",
    "",
  ])("leaves ordinary text intact: %s", (text) => {
    expect(filterReply(text)).toBe(text);
  });
});

describe("filterReply with Markdown", () => {
  it.each([
    ["## 今天的安排\n- **唱歌** 🎤\n- 聊天", "今天的安排\n唱歌\n聊天"],
    ["Check [our site](https://example.com) :)", "Check our site"],
    ["```\nnpm start\n```\nThat's it!", "npm start\nThat's it!"],
  ])("%j", (reply, spoken) => {
    expect(filterReply(reply)).toBe(spoken);
  });
});

describe("filterSegment", () => {
  it.each([
    ["**Hello** 👋", "Hello"],
    ["- 第一点：准备", "第一点：准备"],
    ["1.", "1."],
  ])("%j → %j", (segment, spoken) => {
    expect(filterSegment(segment)).toBe(spoken);
  });

  it.each([
    [";3.14", { before: "？" }, ";3.14"],
    [";3.14", { before: " " }, ".14"],
    [";3.14", {}, ".14"],
    [":)好", { before: "你" }, "好"],
    [":)好", { before: "a" }, ":)好"],
    ["好 :3", { after: "x" }, "好 :3"],
    ["好 :3", { after: "," }, "好"],
    ["好 :3", { after: "\n" }, "好"],
  ] as const)(
    "%j within %j → %j: a face is a whole token in the reply, not in the segment",
    (segment, context, spoken) => {
      expect(filterSegment(segment, context)).toBe(spoken);
    },
  );

  it.each(["👍🎉", "```ts", "---", ":)", "……", "* * *", "> "])("drops %j: nothing left to say", (segment) => {
    expect(filterSegment(segment)).toBe("");
  });
});
