// A child process for the crash test: chats in a few sessions as fast as it
// can through the built store, printing "ack <session> <turn>" after each
// turn is stored (what a client would have received), until it is killed.
import { writeSync } from "node:fs";
import { openSqliteSessionStore } from "../dist/index.js";

const [file, sessionsText] = process.argv.slice(2);
const sessions = Number(sessionsText);
const store = openSqliteSessionStore({ file, key: Buffer.alloc(32, 5).toString("base64") });

for (let i = 0; i < sessions; i++) {
  const id = `crash-${i}`;
  if ((await store.get(id)) !== undefined) continue;
  await store.create({
    id,
    config: {
      kind: "api-key",
      version: 3,
      credentials: [`sk-test-crash-${i}`],
      serverCredential: false,
      model: undefined,
      baseUrl: undefined,
      temperature: undefined,
      maxTokens: 3000,
      filter: false,
    },
    initialPrompt: "",
    initialResponse: "",
    systemTokens: 0,
    history: [],
    conversation: null,
    createdAt: Date.now(),
    conversationStartedAt: Date.now(),
    lastActiveAt: Date.now(),
  });
}
process.stdout.write("ready\n");

function ack(line) {
  for (;;) {
    try {
      writeSync(1, line);
      return;
    } catch (error) {
      if (error.code !== "EAGAIN") throw error; // a full non-blocking pipe: the reader is behind, try again
    }
  }
}

// Fencing tokens as the coordinator issues them: above any an earlier run stored.
let fence = Math.max(Date.now() * 1000, store.table.highestFence());

// One chat loop per session, all at once (one chat at a time per session, as
// the pool's turn lease allows): their turns finish together and are committed
// in groups, so the kills land in group commits too.
async function chatLoop(session) {
  const id = `crash-${session}`;
  for (let n = session; ; n += sessions) {
    const record = await store.get(id);
    const last = record.history.at(-1);
    const turn =
      last === undefined
        ? Number(record.conversation?.turn ?? 0) + 1
        : Number(/^answer (\d+)/.exec(last.content)[1]) + 1;
    // Drop the oldest turn like the pool does once the budget is reached, so deletes are exercised too.
    const outcome = await store.appendTurn(id, ++fence, {
      drop: record.history.length >= 20 ? 2 : 0,
      append: [
        { role: "user", content: `question ${turn} ${"q".repeat(50 + (n % 300))}`, tokens: 20 },
        { role: "assistant", content: `answer ${turn} ${"a".repeat(200 + (n % 900))}`, tokens: 80 },
      ],
      conversation: { turn },
      lastActiveAt: Date.now(),
    });
    if (outcome !== "written") throw new Error(`turn ${turn} of ${id}: ${outcome}`);
    // Straight into the pipe: process.stdout may hold writes in memory while this
    // loop never waits for I/O, and a SIGKILL would drop acks the test must see.
    ack(`ack ${id} ${turn}\n`);
  }
}

await Promise.all(Array.from({ length: sessions }, (_, session) => chatLoop(session)));
