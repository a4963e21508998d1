import { describe, expect, it } from "vitest";
import { describeFilter, filterBody, filterOf, liveFilter, NO_FILTER, parseFilter } from "./filters";
import { batches, targetBatches } from "./selection";
import {
  checkRatios,
  checkViewName,
  commandStatus,
  DEFAULT_RATIOS,
  folderPlan,
  leakageSummary,
  leakSplits,
  share,
  splitTotal,
  viewParams,
} from "./splits";

describe("the ratio form", () => {
  it("turns percentages that sum to 100 into the API's shares of 1", () => {
    expect(checkRatios(DEFAULT_RATIOS)).toEqual({ ok: true, ratios: { train: 0.8, val: 0.1, test: 0.1 } });
    expect(checkRatios({ train: " 70 ", val: "30", test: "0" })).toEqual({
      ok: true,
      ratios: { train: 0.7, val: 0.3, test: 0 },
    });
    // Exact in hundredths: floating point would make this 99.99999999999999.
    expect(checkRatios({ train: "33.33", val: "33.33", test: "33.34" })).toEqual({
      ok: true,
      ratios: { train: 0.3333, val: 0.3333, test: 0.3334 },
    });
  });

  it("says which field is wrong, or what the shares sum to", () => {
    expect(checkRatios({ train: "", val: "10", test: "10" })).toEqual({
      ok: false,
      message: "train: a number from 0 to 100",
    });
    expect(checkRatios({ train: "80", val: "-10", test: "30" })).toEqual({
      ok: false,
      message: "val: a number from 0 to 100",
    });
    expect(checkRatios({ train: "80", val: "10", test: "1e1" })).toMatchObject({ ok: false });
    expect(checkRatios({ train: "101", val: "0", test: "0" })).toEqual({
      ok: false,
      message: "train: a number from 0 to 100",
    });
    expect(checkRatios({ train: "80", val: "10", test: "5" })).toEqual({
      ok: false,
      message: "The shares must sum to 100 (now 95)",
    });
    expect(checkRatios({ train: "80.5", val: "10", test: "10" })).toEqual({
      ok: false,
      message: "The shares must sum to 100 (now 100.5)",
    });
  });
});

describe("split counts and commands", () => {
  it("gives each split's share of every live image", () => {
    const counts = { train: 8, val: 1, test: 1, none: 2 };
    expect(splitTotal(counts)).toBe(12);
    expect(share(counts.train, 12)).toBe("66.7%");
    expect(share(counts.none, 12)).toBe("16.7%");
    expect(share(3, 3)).toBe("100%");
    expect(share(0, 0)).toBe("0%");
  });

  it("says how far a split command is, and what it did", () => {
    expect(commandStatus({ status: "accepted", matched: 0, applied: 0 })).toBe("Assigning…");
    expect(commandStatus({ status: "running", matched: 40, applied: 12 })).toBe("Assigning: 12 of 40 placed…");
    expect(commandStatus({ status: "done", matched: 40, applied: 40 })).toBe("Done: 40 images placed");
    expect(commandStatus({ status: "done", matched: 1, applied: 1 })).toBe("Done: 1 image placed");
    expect(commandStatus({ status: "done", matched: 0, applied: 0 })).toBe("Done: nothing to move");
  });

  it("maps only the folders given a split", () => {
    expect(folderPlan({ train: "train", "train/extra": "", holdout: "test", "": "val" })).toEqual({
      train: "train",
      holdout: "test",
      "": "val",
    });
    expect(folderPlan({ a: "" })).toEqual({});
  });
});

describe("the leakage report", () => {
  it("lists a group's images per split in split order, leaving out the empty ones", () => {
    expect(leakSplits({ test: 1, train: 2, none: 4 })).toBe("train 2 · test 1");
    expect(leakSplits({ val: 0, train: 3 })).toBe("train 3");
  });

  it("says whether any group straddles splits", () => {
    expect(leakageSummary({ groups: 0, leaks: 0 })).toBe(
      "No leakage: none of the 0 duplicate groups spans two splits.",
    );
    expect(leakageSummary({ groups: 1, leaks: 0 })).toBe("No leakage: none of the 1 duplicate group spans two splits.");
    expect(leakageSummary({ groups: 5, leaks: 1 })).toBe("1 of the 5 duplicate groups spans two or more splits.");
    expect(leakageSummary({ groups: 5, leaks: 2 })).toBe("2 of the 5 duplicate groups span two or more splits.");
  });
});

describe("saved views", () => {
  it("takes a trimmed name of 1 to 100 characters", () => {
    expect(checkViewName("  holdout cats ")).toEqual({ ok: true, name: "holdout cats" });
    expect(checkViewName("   ")).toEqual({ ok: false, message: "Give the view a name" });
    expect(checkViewName("x".repeat(100))).toMatchObject({ ok: true });
    expect(checkViewName("x".repeat(101))).toEqual({ ok: false, message: "At most 100 characters" });
  });

  it("opens a view by its id alone", () => {
    expect(viewParams("abc")).toEqual({ view: "abc" });
    expect(viewParams(null)).toEqual({});
    expect(parseFilter(new URLSearchParams(viewParams("abc"))).view).toBe("abc");
  });

  it("stores a filter's fields and reads them back, missing ones as defaults", () => {
    const filter = parseFilter(new URLSearchParams("folder=a&tags=cat,dog&match=any&split=none&duplicates=true"));
    const body = filterBody(filter);
    expect(body).toEqual({
      folder: "a",
      status: null,
      tags: ["cat", "dog"],
      match: "any",
      untagged: false,
      split: "none",
      duplicates: true,
    });
    expect(filterOf(body)).toEqual(filter);
    expect(filterOf({ tags: ["x"] })).toEqual({ ...NO_FILTER, tags: ["x"] });
    expect(filterOf({ status: "bogus", split: "holdout", match: "all" })).toEqual(NO_FILTER);
  });

  it("describes a filter for people", () => {
    expect(describeFilter(NO_FILTER)).toBe("all images");
    expect(describeFilter({ ...NO_FILTER, folder: "" })).toBe("folder=(top level)");
    expect(describeFilter({ ...NO_FILTER, tags: ["cat"], split: "val", duplicates: true })).toBe(
      "tags=cat, split=val, duplicates=true",
    );
  });
});

describe("the live stream's filter", () => {
  it("follows the listing's own filter, or the view by id", () => {
    const tagged = { ...NO_FILTER, tags: ["cat"] };
    expect(liveFilter(tagged)).toEqual({ filter: tagged, exact: true });
    const view = { ...NO_FILTER, view: "v1" };
    expect(liveFilter(view, null)).toEqual({ filter: view, exact: true }); // not loaded yet
    expect(liveFilter(view, { ...NO_FILTER, split: "train" })).toEqual({ filter: view, exact: true });
  });

  it("never asks the stream for duplicates (the API refuses): the wider set, then refetch", () => {
    const dups = { ...NO_FILTER, folder: "a", duplicates: true };
    expect(liveFilter(dups)).toEqual({ filter: { ...NO_FILTER, folder: "a" }, exact: false });
    const view = { ...NO_FILTER, view: "v1" };
    expect(liveFilter(view, dups)).toEqual({ filter: { ...NO_FILTER, folder: "a" }, exact: false });
  });
});

describe("bulk targets", () => {
  it("sends ids in batches of at most 1,000 and a filter as one where", () => {
    const ids = Array.from({ length: 2001 }, (_, i) => `i${i}`);
    expect(batches(ids).map((batch) => batch.length)).toEqual([1000, 1000, 1]);
    expect(batches([])).toEqual([]);
    const sent = targetBatches({ ids });
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual({ ids: ["i2000"] });
    expect(targetBatches({ where: { ...NO_FILTER, split: "none" } })).toEqual([
      { where: { ...filterBody(NO_FILTER), split: "none" } },
    ]);
    expect(targetBatches({ where: { ...NO_FILTER, view: "v1" } })).toEqual([
      { where: { ...filterBody(NO_FILTER), view: "v1" } },
    ]);
  });
});
