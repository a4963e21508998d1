import { describe, expect, it } from "vitest";
import { checkSharePassword, EXPIRIES, remaining, shareStatus, shareUrl } from "./shares";

describe("share links", () => {
  it("hands out the link on this UI's origin", () => {
    expect(shareUrl("http://127.0.0.1:8080", "/s/abc-_1")).toBe("http://127.0.0.1:8080/s/abc-_1");
    expect(shareUrl("https://assets.example/", "/s/x")).toBe("https://assets.example/s/x");
  });

  it("offers expiries the API accepts (1 minute to 90 days)", () => {
    for (const { seconds } of EXPIRIES) {
      expect(seconds).toBeGreaterThanOrEqual(60);
      expect(seconds).toBeLessThanOrEqual(90 * 86_400);
    }
  });

  it("checks a password as the API does: none, or at least 8 characters", () => {
    expect(checkSharePassword("")).toEqual({ ok: true, password: null });
    expect(checkSharePassword("12345678")).toEqual({ ok: true, password: "12345678" });
    expect(checkSharePassword("1234567")).toEqual({ ok: false, message: "a password has at least 8 characters" });
  });

  it("says how long a link has left, or that it is over", () => {
    const now = new Date("2026-12-05T12:00:00Z");
    const at = (iso: string) => ({ state: "active" as const, expires_at: iso, revoked_at: null });
    expect(shareStatus(at("2026-12-12T12:00:00Z"), now)).toBe("expires in 7 days");
    expect(shareStatus(at("2026-12-05T13:30:00Z"), now)).toBe("expires in 1 hour");
    expect(shareStatus(at("2026-12-05T12:00:30Z"), now)).toBe("expires in less than a minute");
    expect(shareStatus(at("2026-12-05T11:59:59Z"), now)).toBe("expired"); // the clock passed it
    expect(shareStatus({ ...at("2026-12-12T12:00:00Z"), state: "revoked" }, now)).toBe("revoked");
    expect(shareStatus({ ...at("2026-12-04T12:00:00Z"), state: "expired" }, now)).toBe("expired");
    expect(remaining(2 * 60_000 + 5)).toBe("2 minutes");
  });
});
