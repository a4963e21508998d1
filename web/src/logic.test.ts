import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { Image } from "./api/client";
import { dropImage, placeImage, updateImage } from "./api/queries";
import { filterParams, filterWhere, parseFilter } from "./filters";
import { folderTree } from "./folders";
import { contentType, uploadPath } from "./uploads";

describe("filters", () => {
  it("round-trips through the URL and leaves defaults out", () => {
    const filter = parseFilter(new URLSearchParams("tags=cat, dog,&match=any&status=ready&folder=a/b"));
    expect(filter).toEqual({ folder: "a/b", status: "ready", tags: ["cat", "dog"], match: "any", untagged: false });
    expect(filterParams(filter)).toEqual({ folder: "a/b", status: "ready", tags: "cat,dog", match: "any" });
    expect(filterParams(parseFilter(new URLSearchParams("")))).toEqual({});
  });

  it("ignores values the API would refuse and keeps the top-level folder", () => {
    const filter = parseFilter(new URLSearchParams("status=bogus&match=some&untagged=1&folder="));
    expect(filter.status).toBeNull();
    expect(filter.match).toBe("all");
    expect(filter.untagged).toBe(false);
    expect(filter.folder).toBe("");
    expect(filterParams(filter)).toEqual({ folder: "" });
    expect(filterWhere(filter)).toEqual({ folder: "", status: null, tags: [], match: "all", untagged: false });
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
