/** The folder tree built from per-folder image counts. */

export interface FolderNode {
  path: string;
  name: string;
  own: number;
  total: number;
  children: FolderNode[];
}

/** Build the tree from per-folder counts ("" is the top level; "a/b" implies "a"). */
export function folderTree(folders: { folder: string; images: number }[]): FolderNode {
  const root: FolderNode = { path: "", name: "all folders", own: 0, total: 0, children: [] };
  const nodes = new Map<string, FolderNode>([["", root]]);
  const node = (path: string): FolderNode => {
    let found = nodes.get(path);
    if (!found) {
      const cut = path.lastIndexOf("/");
      const parent = node(cut < 0 ? "" : path.slice(0, cut));
      found = { path, name: path.slice(cut + 1), own: 0, total: 0, children: [] };
      parent.children.push(found);
      nodes.set(path, found);
    }
    return found;
  };
  for (const { folder, images } of folders) node(folder).own += images;
  const sum = (n: FolderNode): number => {
    n.children.sort((a, b) => a.name.localeCompare(b.name));
    n.total = n.own + n.children.reduce((acc, child) => acc + sum(child), 0);
    return n.total;
  };
  sum(root);
  return root;
}
