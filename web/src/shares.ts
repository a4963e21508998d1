/** Share links in the UI: expiry choices, the link to hand out, what a link's state means. */

/** Expiry choices of the share dialog, in seconds (the API takes 1 minute to 90 days). */
export const EXPIRIES = [
  { label: "1 hour", seconds: 3600 },
  { label: "1 day", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
  { label: "90 days", seconds: 90 * 86_400 },
] as const;

export const DEFAULT_EXPIRY = 7 * 86_400;
export const MIN_PASSWORD = 8;

/** The address to hand out for a link's path (``/s/<token>``), on this UI's origin. */
export function shareUrl(origin: string, path: string): string {
  return new URL(path, origin).toString();
}

/** A link's password as typed: empty is none; else at least 8 characters (the API's rule). */
export function checkSharePassword(
  text: string,
): { ok: true; password: string | null } | { ok: false; message: string } {
  if (text === "") return { ok: true, password: null };
  if (text.length < MIN_PASSWORD) return { ok: false, message: `a password has at least ${MIN_PASSWORD} characters` };
  return { ok: true, password: text };
}

/** A link's state for its admin: active until it expires, or revoked. */
export function shareStatus(
  share: { state: "active" | "expired" | "revoked"; expires_at: string; revoked_at: string | null },
  now: Date,
): string {
  if (share.state === "revoked") return "revoked";
  const left = new Date(share.expires_at).getTime() - now.getTime();
  if (share.state === "expired" || left <= 0) return "expired";
  return `expires in ${remaining(left)}`;
}

/** A duration for people, in its largest whole unit: "3 days", "5 hours", "1 minute". */
export function remaining(ms: number): string {
  const units: [string, number][] = [
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
  ];
  for (const [name, size] of units) {
    const n = Math.floor(ms / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? "" : "s"}`;
  }
  return "less than a minute";
}
