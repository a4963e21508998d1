import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { Image } from "./api/client";
import { dropImage, placeImage, updateImage } from "./api/queries";
import {
  awaitingIndex,
  type Deletion,
  deletionFinished,
  deletionStatus,
  distanceLabel,
  liveDeletions,
  mergeGroups,
  othersOf,
  parseK,
  parseView,
  startDeletion,
  withView,
} from "./curation";
import { filterParams, filterWhere, isFiltered, NO_FILTER, parseFilter } from "./filters";
import { folderTree } from "./folders";
import { contentType, uploadPath } from "./uploads";

describe("filters", () => {
  it("round-trips through the URL and leaves defaults out", () => {
    const filter = parseFilter(
      new URLSearchParams("tags=cat, dog,&match=any&status=ready&folder=a/b&split=val&duplicates=true"),
    );
    expect(filter).toEqual({
      folder: "a/b",
      status: "ready",
      tags: ["cat", "dog"],
      match: "any",
      untagged: false,
      split: "val",
      duplicates: true,
      view: null,
    });
    expect(filterParams(filter)).toEqual({
      folder: "a/b",
      status: "ready",
      tags: "cat,dog",
      match: "any",
      split: "val",
      duplicates: "true",
    });
    expect(parseFilter(new URLSearchParams(""))).toEqual(NO_FILTER);
    expect(filterParams(parseFilter(new URLSearchParams("")))).toEqual({});
  });

  it("ignores values the API would refuse and keeps the top-level folder", () => {
    const filter = parseFilter(
      new URLSearchParams("status=bogus&match=some&untagged=1&folder=&split=holdout&duplicates=1"),
    );
    expect(filter.status).toBeNull();
    expect(filter.match).toBe("all");
    expect(filter.untagged).toBe(false);
    expect(filter.split).toBeNull();
    expect(filter.duplicates).toBe(false);
    expect(filter.folder).toBe("");
    expect(filterParams(filter)).toEqual({ folder: "" });
    expect(filterWhere(filter)).toEqual({
      folder: "",
      status: null,
      tags: [],
      match: "all",
      untagged: false,
      split: null,
      duplicates: false,
    });
    expect(parseFilter(new URLSearchParams("split=none")).split).toBe("none");
  });

  it("takes a saved view alone: the URL, the listing and a where body name only the view", () => {
    const filter = parseFilter(new URLSearchParams("view=v1&tags=cat&split=train"));
    expect(filter).toEqual({ ...NO_FILTER, view: "v1" });
    expect(filterParams(filter)).toEqual({ view: "v1" });
    expect(isFiltered(filter)).toBe(true);
    expect(filterWhere(filter)).toEqual({
      folder: null,
      status: null,
      tags: [],
      match: "all",
      untagged: false,
      split: null,
      duplicates: false,
      view: "v1",
    });
  });
});

describe("folderTree", () => {
  it("nests folders, implies parents and sums subtrees", () => {
    const root = folderTree([
      { folder: "", images: 2 },
      { folder: "b/c", images: 3 },
      { folder: "a", images: 1 },
      { folder: "b", images: 4 },
    ]);
    expect(root.total).toBe(10);
    expect(root.own).toBe(2);
    expect(root.children.map((n) => [n.path, n.own, n.total])).toEqual([
      ["a", 1, 1],
      ["b", 4, 7],
    ]);
    expect(root.children[1].children.map((n) => [n.path, n.name, n.total])).toEqual([["b/c", "c", 3]]);
    const implied = folderTree([{ folder: "x/y/z", images: 5 }]);
    expect(implied.children[0].path).toBe("x");
    expect(implied.children[0].own).toBe(0);
    expect(implied.children[0].total).toBe(5);
  });
});

describe("uploads", () => {
  const file = (name: string, type = "") => new File(["x"], name, { type });
  it("keeps a dropped folder's structure and never climbs out of the dataset", () => {
    expect(uploadPath(file("a.jpg"), "/trip/day1/a.jpg")).toBe("trip/day1/a.jpg");
    expect(uploadPath(file("a.jpg"), "../../etc/./a.jpg")).toBe("etc/a.jpg");
    expect(uploadPath(file("a.jpg"), "win\\dir\\a.jpg")).toBe("win/dir/a.jpg");
    expect(uploadPath(file("plain.png"))).toBe("plain.png");
  });
  it("sends a type the API accepts", () => {
    expect(contentType(file("a.jpg", "image/jpeg"))).toBe("image/jpeg");
    expect(contentType(file("a.cr2", ""))).toBe("application/octet-stream");
    expect(contentType(file("a.pdf", "application/pdf"))).toBe("application/octet-stream");
  });
});

describe("live edits of a cached listing", () => {
  const image = (id: string, uploaded: string): Image =>
    ({ id, dataset_id: "d", uploaded_at: uploaded, tags: [] }) as unknown as Image;
  const key = ["dataset", "d", "images", {}];
  const seeded = (pages: { items: Image[]; next_cursor: string | null }[]) => {
    const client = new QueryClient();
    client.setQueryData(key, { pages, pageParams: pages.map(() => null) });
    return client;
  };
  const ids = (client: QueryClient) =>
    (client.getQueryData(key) as { pages: { items: Image[] }[] }).pages.map((p) => p.items.map((i) => i.id));

  it("puts a new image at its place in the newest-first order", () => {
    const client = seeded([
      { items: [image("c", "2026-03"), image("b", "2026-02")], next_cursor: "x" },
      { items: [image("a", "2026-01")], next_cursor: null },
    ]);
    placeImage(client, key, image("n", "2026-04"));
    placeImage(client, key, image("m", "2026-01-15"));
    expect(ids(client)).toEqual([
      ["n", "c", "b"],
      ["m", "a"],
    ]);
    placeImage(client, key, image("n", "2026-04")); // a replay: still once
    expect(
      ids(client)
        .flat()
        .filter((id) => id === "n"),
    ).toHaveLength(1);
  });

  it("leaves an older image for a page not loaded yet, replaces and drops in place", () => {
    const client = seeded([{ items: [image("b", "2026-02")], next_cursor: "more" }]);
    placeImage(client, key, image("old", "2025-01"));
    expect(ids(client)).toEqual([["b"]]);
    updateImage(client, key, { ...image("b", "2026-02"), tags: ["cat"] });
    expect((client.getQueryData(key) as { pages: { items: Image[] }[] }).pages[0].items[0].tags).toEqual(["cat"]);
    dropImage(client, key, "b");
    expect(ids(client)).toEqual([[]]);
  });
});

describe("curation", () => {
  const group = (sha256: string, ...ids: string[]) => ({ sha256, items: ids.map((id) => ({ id })) });

  it("keeps the view in the URL next to the filter, the grid by default", () => {
    expect(parseView(new URLSearchParams("tab=duplicates&tags=a"))).toBe("duplicates");
    expect(parseView(new URLSearchParams("tab=bogus&view=duplicates"))).toBe("images");
    expect(parseView(new URLSearchParams(""))).toBe("images");
    const params = withView(new URLSearchParams("tags=a"), "duplicates");
    expect(params.toString()).toBe("tags=a&tab=duplicates");
    expect(withView(params, "images").toString()).toBe("tags=a");
  });

  it("merges pages of groups, each sha256 once, in order", () => {
    const pages = [{ items: [group("a", "1", "2", "3"), group("b", "4", "5")] }, { items: [group("b", "4", "5")] }];
    expect(mergeGroups([...pages, { items: [group("c", "6", "7")] }]).map((g) => g.sha256)).toEqual(["a", "b", "c"]);
    expect(mergeGroups([])).toEqual([]);
  });

  it("deletes every other image of the group and reports progress", () => {
    const g = group("a", "1", "2", "3");
    expect(othersOf(g, "2")).toEqual(["1", "3"]);
    let d: Deletion = startDeletion(g, "2");
    expect(d).toEqual({ keep: "2", ids: ["1", "3"], done: [], failed: [] });
    expect(deletionStatus(d)).toBe("Deleting 1 of 2…");
    d = { ...d, done: ["1"] };
    expect(deletionStatus(d)).toBe("Deleting 2 of 2…");
    expect(deletionFinished(d)).toBe(false);
    d = { ...d, done: ["1", "3"] };
    expect(deletionFinished(d)).toBe(true);
    expect(deletionStatus(d)).toBe("Deleted 2 of 2; waiting for the index to follow…");
    const failed = { ...d, done: ["1"], failed: [{ id: "3", message: "no" }] };
    expect(deletionStatus(failed)).toBe("Deleted 1 of 2, 1 failed; waiting for the index to follow…");
    expect(
      deletionStatus({
        ...d,
        done: [],
        failed: [
          { id: "1", message: "x" },
          { id: "3", message: "y" },
        ],
      }),
    ).toBe("Deleted 0 of 2, 2 failed");
  });

  it("keeps a finished deletion only while the listing still shows what it deleted", () => {
    const done: Deletion = { keep: "2", ids: ["1", "3"], done: ["1", "3"], failed: [] };
    const running: Deletion = { keep: "5", ids: ["4"], done: [], failed: [] };
    expect(awaitingIndex(group("a", "1", "2", "3"), done)).toBe(true);
    expect(awaitingIndex(group("a", "2", "3"), done)).toBe(true);
    expect(awaitingIndex(undefined, done)).toBe(false);
    // The listing caught up: the group is gone, or shows only images this deletion left.
    expect(Object.keys(liveDeletions({ a: done, b: running }, [group("b", "4", "5")]))).toEqual(["b"]);
    expect(Object.keys(liveDeletions({ a: done }, [group("a", "2", "9")]))).toEqual([]);
    expect(Object.keys(liveDeletions({ a: done }, [group("a", "1", "2")]))).toEqual(["a"]);
    const failed: Deletion = { ...done, done: ["1"], failed: [{ id: "3", message: "403" }] };
    expect(Object.keys(liveDeletions({ a: failed }, []))).toEqual(["a"]); // its errors stay shown
  });

  it("takes k as an integer from 0 to 10 and says distances in bits", () => {
    expect(parseK("0")).toBe(0);
    expect(parseK(" 10 ")).toBe(10);
    expect(parseK("11")).toBe(6);
    expect(parseK("-1", 3)).toBe(3);
    expect(parseK("2.5")).toBe(6);
    expect(parseK(null)).toBe(6);
    expect(distanceLabel(0)).toBe("0 bits");
    expect(distanceLabel(1)).toBe("1 bit");
    expect(distanceLabel(5)).toBe("5 bits");
  });
});
