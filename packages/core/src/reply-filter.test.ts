import { describe, expect, it } from "vitest";
import { describeSpeechFilter, type SpokenExamples } from "../test/speech-filter-suite.js";
import { filterReply, filterSegment } from "./reply-filter.js";

/** [reply from a model, what text-to-speech should get], by what the filter takes out. */
const SPOKEN: SpokenExamples = {
  "emoji go": [
    ["你好呀！今天的直播好开心😊🎉", "你好呀！今天的直播好开心"],
    ["谢谢你的礼物！❤️ 爱你哦~", "谢谢你的礼物！爱你哦~"],
    ["👍", ""],
    ["家人们晚上好🌙✨，我们开始吧！", "家人们晚上好，我们开始吧！"],
    ["Flags 🇨🇳🇯🇵 and families 👨‍👩‍👧 and skin tones 👋🏽 go too.", "Flags and families and skin tones go too."],
  ],
  "a keycap keeps its character": [["1️⃣ 先准备好 2️⃣ 再开始", "1 先准备好 2 再开始"]],
  "a text face between words goes": [
    ["Hello everyone! 👋 Welcome to the stream :)", "Hello everyone! Welcome to the stream"],
    ["That's hilarious XD I can't stop laughing", "That's hilarious I can't stop laughing"],
    ["Sure thing ;P see you tomorrow", "Sure thing see you tomorrow"],
    ["Oh no :-( that's sad", "Oh no that's sad"],
    ["Wow :-D amazing!", "Wow amazing!"],
    ["Hmm =/ not sure", "Hmm not sure"],
    ["I'm crying :'( so touching", "I'm crying so touching"],
    ["Love you all <3", "Love you all"],
    ["Cool 8-) right", "Cool right"],
  ],
  "kaomoji go": [
    ["Yay ^_^ let's go", "Yay let's go"],
    ["好的 ^^ 马上开始", "好的 马上开始"],
  ],
  "a face glued to Chinese text goes": [
    ["今天好开心:)", "今天好开心"],
    ["哈哈XD太好笑了", "哈哈太好笑了"],
    ["晚安^_^。", "晚安。"],
  ],
  "Markdown goes too": [
    ["## 今天的安排\n- **唱歌** 🎤\n- 聊天", "今天的安排\n唱歌\n聊天"],
    ["Check [our site](https://example.com) :)", "Check our site"],
    ["```\nnpm start\n```\nThat's it!", "npm start\nThat's it!"],
  ],
};

describe("filterReply", () => {
  describeSpeechFilter(filterReply, SPOKEN);
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
