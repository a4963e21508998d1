/** Curation state as pure functions: the dataset page's view in the URL, duplicate groups across
 * pages, "keep this one" deletions and their progress, and the similar strip's distance. */

export const VIEWS = ["images", "duplicates"] as const;
export type View = (typeof VIEWS)[number];

/** The URL parameter that holds the view (not ``view``: the API's listing takes that for a saved
 * view's id). */
export const VIEW_PARAM = "tab";

/** The dataset page's view, from ``?tab=`` (the grid unless it names another). */
export function parseView(params: URLSearchParams): View {
  const view = params.get(VIEW_PARAM);
  return (VIEWS as readonly string[]).includes(view ?? "") ? (view as View) : "images";
}

/** ``params`` showing ``view``; the grid is the default, so it leaves the parameter out. */
export function withView(params: URLSearchParams, view: View): URLSearchParams {
  const out = new URLSearchParams(params);
  if (view === "images") out.delete(VIEW_PARAM);
  else out.set(VIEW_PARAM, view);
  return out;
}

interface Grouped {
  sha256: string;
  items: { id: string }[];
}

/** The groups of every loaded page in order, each sha256 once (a group may move between pages
 * while they are fetched: its count changed). */
export function mergeGroups<G extends Grouped>(pages: { items: G[] }[]): G[] {
  const seen = new Set<string>();
  const out: G[] = [];
  for (const page of pages)
    for (const group of page.items)
      if (!seen.has(group.sha256)) {
        seen.add(group.sha256);
        out.push(group);
      }
  return out;
}

/** The ids to delete to keep only ``keepId`` of the group's listed images. */
export function othersOf(group: Grouped, keepId: string): string[] {
  return group.items.filter((item) => item.id !== keepId).map((item) => item.id);
}

/** One "keep this one": which image stays, and how deleting the others goes. */
export interface Deletion {
  keep: string;
  ids: string[];
  done: string[];
  failed: { id: string; message: string }[];
}

export function startDeletion(group: Grouped, keepId: string): Deletion {
  return { keep: keepId, ids: othersOf(group, keepId), done: [], failed: [] };
}

export function deletionFinished(deletion: Deletion): boolean {
  return deletion.done.length + deletion.failed.length >= deletion.ids.length;
}

/** What a person reads while deleting and after. */
export function deletionStatus(deletion: Deletion): string {
  const total = deletion.ids.length;
  const settled = deletion.done.length + deletion.failed.length;
  if (settled < total) return `Deleting ${Math.min(settled + 1, total)} of ${total}…`;
  const failed = deletion.failed.length ? `, ${deletion.failed.length} failed` : "";
  const waiting = deletion.done.length ? "; waiting for the index to follow…" : "";
  return `Deleted ${deletion.done.length} of ${total}${failed}${waiting}`;
}

/** The listing still shows an image this deletion deleted: the index has not followed yet. */
export function awaitingIndex(group: Grouped | undefined, deletion: Deletion): boolean {
  if (!group || !deletion.done.length) return false;
  const deleted = new Set(deletion.done);
  return group.items.some((item) => deleted.has(item.id));
}

/** Deletions still worth showing: those in flight, with failures, or whose group the listing
 * still shows with an image they deleted. The others are over: their group is gone (or came
 * back with other images, which is a new group to curate). */
export function liveDeletions(deletions: Record<string, Deletion>, groups: Grouped[]): Record<string, Deletion> {
  const bySha = new Map(groups.map((group) => [group.sha256, group]));
  const out: Record<string, Deletion> = {};
  for (const [sha256, deletion] of Object.entries(deletions)) {
    if (!deletionFinished(deletion) || deletion.failed.length || awaitingIndex(bySha.get(sha256), deletion))
      out[sha256] = deletion;
  }
  return out;
}

/** The similar strip's largest Hamming distance: an integer in 0..10, else ``fallback``. */
export const MAX_K = 10;
export function parseK(value: string | null | undefined, fallback = 6): number {
  if (value === null || value === undefined || !/^\d{1,2}$/.test(value.trim())) return fallback;
  const k = Number(value.trim());
  return k <= MAX_K ? k : fallback;
}

/** A Hamming distance between pHashes, for people: "0 bits", "1 bit", "5 bits". */
export function distanceLabel(bits: number): string {
  return `${bits} bit${bits === 1 ? "" : "s"}`;
}

/** A sha256 short enough to show: its first 12 hex digits. */
export function shortHash(sha256: string): string {
  return sha256.slice(0, 12);
}
