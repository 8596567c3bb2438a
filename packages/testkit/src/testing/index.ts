/**
 * @chatgptchatbot/testkit/testing: helpers for vitest suites across the
 * workspace (they import vitest and core): the one scripted backend, the one
 * "catch the rejection" helper, and a conformance suite per interface that
 * every SessionStore and Coordinator implementation must pass.
 */

export { ACCESS_TOKEN, API_KEY, askRequest, drain, sessionConfig } from "./backend-requests.js";
export type { Closers } from "./close-after-each.js";
export { closeAfterEach, closeAll } from "./close-after-each.js";
export type { CoordinatorUnderTest } from "./coordinator-conformance.js";
export { describeCoordinatorConformance } from "./coordinator-conformance.js";
export { startConnectionCounter, startScriptedServer } from "./counted-servers.js";
export { everythingIn } from "./error-text.js";
export type { LoggedLine, RecordingLogger } from "./recording-logger.js";
export { recordingLogger } from "./recording-logger.js";
export { caught, rejection } from "./rejection.js";
export type { Script, ScriptedBackendOptions } from "./scripted-backend.js";
export { ScriptedBackend, untilAborted, upstreamDown } from "./scripted-backend.js";
export { sessionRecord } from "./session-record.js";
export type { StoreUnderTest } from "./session-store-conformance.js";
export { describeSessionStoreConformance } from "./session-store-conformance.js";
export { deferred, nextMacrotask } from "./timing.js";
