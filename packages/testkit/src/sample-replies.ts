/**
 * Multi-sentence replies and reasoning as real models write them, for tests of
 * streaming: several sentences, clause marks, a number, an abbreviation, a
 * closing quote, so a segmenter has real work to do.
 */
export const SAMPLE_REPLIES = {
  zh: "大家晚上好！欢迎来到今天的直播间，我是你们的虚拟主播小星。今天我们先聊聊最近的新闻，然后一起玩游戏。对了，有人问我最喜欢的数字，答案是3.14——因为圆周率很浪漫。准备好了吗？我们开始吧！",
  en: "Good evening, everyone! Welcome back to the stream. Tonight we'll chat about the news first, then play a game together. Someone asked Dr. Lee about version 2.5 of the game, and she said it's \"the best one yet.\" Are you ready? Let's go!",
  ja: "みなさん、こんばんは！今日の配信へようこそ。まずは最近のニュースについて話して、それから一緒にゲームをしましょう。準備はいいですか？始めましょう！",
  mixed: "Hello大家好！今天我们来聊聊AI。Let's start with a question: 你们觉得ChatGPT好用吗？Tell me in the chat!",
} as const;

/** Reasoning a thinking model writes before its reply (DeepSeek-R1, Qwen3, QwQ): never to be spoken or stored. */
export const SAMPLE_REASONING = {
  zh: "用户在和主播打招呼。我应该热情地回应，介绍今天的安排，语气要活泼。",
  en: "The viewer is greeting me. I should answer warmly, outline tonight's plan, and keep it lively.",
} as const;

export type SampleLanguage = keyof typeof SAMPLE_REPLIES;
