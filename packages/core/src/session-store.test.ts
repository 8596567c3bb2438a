import { describeSessionStoreConformance } from "@chatgptchatbot/testkit/testing";
import { MemorySessionStore } from "./session-store.js";

describeSessionStoreConformance("in memory", () => ({ store: new MemorySessionStore() }));
