/**
 * A redis-server of the test's own on a free loopback port (Debian's
 * package; `.ci/run` installs it): store-redis's launcher, shared rather
 * than copied so both suites start Redis the same way.
 */
export { skipWithoutRedis, startTestRedis, type TestRedis } from "../../../packages/store-redis/test/redis-server.js";
