import { describe, expect, it } from "vitest";
import { timeoutMs } from "./bounded-timeout.js";

describe("timeoutMs", () => {
  it("reads gRPC's and Connect's timeout headers in ms", () => {
    expect(timeoutMs("grpc-timeout", "150m")).toBe(150);
    expect(timeoutMs("grpc-timeout", "2S")).toBe(2000);
    expect(timeoutMs("grpc-timeout", "99999999H")).toBe(99_999_999 * 3_600_000);
    expect(timeoutMs("grpc-timeout", "5000u")).toBe(5);
    expect(timeoutMs("connect-timeout-ms", "9999999999")).toBe(9_999_999_999);
  });

  it("gives undefined for what the protocols do not allow (left for connect to refuse)", () => {
    for (const value of ["", "1", "123456789S", "1.5S", "-1S", "1s", "soon"])
      expect(timeoutMs("grpc-timeout", value)).toBeUndefined();
    for (const value of ["", "12345678901", "1.5", "-1"])
      expect(timeoutMs("connect-timeout-ms", value)).toBeUndefined();
  });
});
