/** Splits and saved views as pure functions: the ratio form's check, what the split dialog says
 * about counts, commands and leakage, and view names. */
import { SPLITS, type Split } from "./filters";

/** The ratio form as typed: percentages. */
export interface RatioInput {
  train: string;
  val: string;
  test: string;
}

export const DEFAULT_RATIOS: RatioInput = { train: "80", val: "10", test: "10" };

export type RatioCheck = { ok: true; ratios: Record<Split, number> } | { ok: false; message: string };

/** Percentages of 0..100 (up to two decimals) that sum to 100, as the API's shares of 1. */
export function checkRatios(input: RatioInput): RatioCheck {
  const percents = {} as Record<Split, number>;
  for (const split of SPLITS) {
    const text = input[split].trim();
    if (!/^\d{1,3}(\.\d{1,2})?$/.test(text)) return { ok: false, message: `${split}: a number from 0 to 100` };
    const value = Number(text);
    if (value > 100) return { ok: false, message: `${split}: a number from 0 to 100` };
    percents[split] = value;
  }
  // In hundredths, so 33.33 + 33.33 + 33.34 is exactly 100.
  const sum = SPLITS.reduce((total, split) => total + Math.round(percents[split] * 100), 0) / 100;
  if (sum !== 100) return { ok: false, message: `The shares must sum to 100 (now ${sum})` };
  const ratios = {} as Record<Split, number>;
  for (const split of SPLITS) ratios[split] = Math.round(percents[split] * 100) / 10_000;
  return { ok: true, ratios };
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
  none: number;
}

export function splitTotal(counts: SplitCounts): number {
  return counts.train + counts.val + counts.test + counts.none;
}

/** A split's share of the dataset for people: "80%", "33.3%", "0%". */
export function share(n: number, total: number): string {
  if (!total) return "0%";
  return `${Math.round((n / total) * 1000) / 10}%`;
}

export interface CommandState {
  status: "accepted" | "running" | "done";
  matched: number;
  applied: number;
}

/** What a person reads while a split command runs and after. */
export function commandStatus(progress: CommandState): string {
  if (progress.status !== "done")
    return progress.matched ? `Assigning: ${progress.applied} of ${progress.matched} placed…` : "Assigning…";
  if (!progress.matched) return "Done: nothing to move";
  return `Done: ${progress.applied} image${progress.applied === 1 ? "" : "s"} placed`;
}

/** A leaking group's images per split, in split order: "train 2 · val 1". */
export function leakSplits(splits: Record<string, number>): string {
  return SPLITS.filter((split) => splits[split])
    .map((split) => `${split} ${splits[split]}`)
    .join(" · ");
}

/** The leakage report's headline. */
export function leakageSummary(report: { groups: number; leaks: number }): string {
  const groups = `${report.groups} duplicate group${report.groups === 1 ? "" : "s"}`;
  if (!report.leaks) return `No leakage: none of the ${groups} spans two splits.`;
  return `${report.leaks} of the ${groups} ${report.leaks === 1 ? "spans" : "span"} two or more splits.`;
}

/** A view's name as the API stores it, or why it cannot be one. */
export function checkViewName(text: string): { ok: true; name: string } | { ok: false; message: string } {
  const name = text.trim();
  if (!name) return { ok: false, message: "Give the view a name" };
  if (name.length > 100) return { ok: false, message: "At most 100 characters" };
  return { ok: true, name };
}

/** The dataset page's URL for a saved view: the view alone (its filter replaces any other). */
export function viewParams(viewId: string | null): Record<string, string> {
  return viewId ? { view: viewId } : {};
}

/** The folders form as chosen (a split, or "" for "leave as it is") as the API's folder map. */
export function folderPlan(choices: Record<string, Split | "">): Record<string, Split> {
  const plan: Record<string, Split> = {};
  for (const [folder, split] of Object.entries(choices)) if (split) plan[folder] = split;
  return plan;
}
