import { ConfigError } from "@chatgptchatbot/core";
import { describe, expect, it } from "vitest";
import { describeProxy, readProxySettings, usesProxy } from "./proxy-settings.js";

describe("readProxySettings", () => {
  it("reads either case, lower case first, and ignores empty values", () => {
    expect(
      readProxySettings({
        HTTP_PROXY: "http://upper:1",
        http_proxy: "http://lower:2",
        HTTPS_PROXY: "http://s:3",
        no_proxy: "",
        NO_PROXY: "localhost",
      }),
    ).toEqual({ httpProxy: "http://lower:2", httpsProxy: "http://s:3", noProxy: "localhost" });
    expect(readProxySettings({ http_proxy: "  ", HTTP_PROXY: "http://upper:1" }).httpProxy).toBe("http://upper:1");
  });

  it("is empty for an environment without proxies", () => {
    const settings = readProxySettings({ PATH: "/bin" });
    expect(settings).toEqual({ httpProxy: undefined, httpsProxy: undefined, noProxy: undefined });
    expect(usesProxy(settings)).toBe(false);
  });

  it("rejects a proxy that is not an http(s) URL, naming the variable but not the value", () => {
    expect(() => readProxySettings({ HTTPS_PROXY: "socks5://u:secret@host:1080" })).toThrow(ConfigError);
    expect(() => readProxySettings({ HTTPS_PROXY: "socks5://u:secret@host:1080" })).toThrow(/^HTTPS_PROXY: /);
    expect(() => readProxySettings({ https_proxy: "not a url secret" })).toThrow(/^https_proxy: expected a proxy URL/);
    try {
      readProxySettings({ HTTP_PROXY: "ftp://user:hunter2@host" });
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
});

describe("describeProxy", () => {
  it("drops the proxy's credentials", () => {
    expect(describeProxy("http://user:hunter2@proxy.local:3128")).toBe("http://proxy.local:3128");
  });
});
