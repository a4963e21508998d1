/** The dataset's folders as a tree; each shows its images including its subfolders'. */
import { useMemo, useState } from "react";
import { useFolders } from "../api/queries";
import { count } from "../format";

interface Node {
  path: string;
  name: string;
  own: number;
  total: number;
  children: Node[];
}

/** Build the tree from per-folder counts ("" is the top level; "a/b" implies "a"). */
export function folderTree(folders: { folder: string; images: number }[]): Node {
  const root: Node = { path: "", name: "all folders", own: 0, total: 0, children: [] };
  const nodes = new Map<string, Node>([["", root]]);
  const node = (path: string): Node => {
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
  const sum = (n: Node): number => {
    n.children.sort((a, b) => a.name.localeCompare(b.name));
    n.total = n.own + n.children.reduce((acc, child) => acc + sum(child), 0);
    return n.total;
  };
  sum(root);
  return root;
}

interface Props {
  datasetId: string;
  selected: string | null;
  onSelect: (folder: string | null) => void;
}

export function FolderTree({ datasetId, selected, onSelect }: Props) {
  const folders = useFolders(datasetId);
  const root = useMemo(() => folderTree(folders.data?.folders ?? []), [folders.data]);
  if (!folders.data) return <p className="muted">…</p>;
  return (
    <ul className="tree" role="tree" aria-label="folders">
      <li role="treeitem" aria-selected={selected === null}>
        <button type="button" className={selected === null ? "current" : ""} onClick={() => onSelect(null)}>
          all folders <span className="count">{count(root.total)}</span>
        </button>
      </li>
      {root.own > 0 && (
        <li role="treeitem" aria-selected={selected === ""}>
          <button type="button" className={selected === "" ? "current" : ""} onClick={() => onSelect("")}>
            <em>top level</em> <span className="count">{count(root.own)}</span>
          </button>
        </li>
      )}
      {root.children.map((child) => (
        <Branch key={child.path} node={child} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function Branch({ node, selected, onSelect }: { node: Node; selected: string | null; onSelect: (f: string) => void }) {
  const inside = selected !== null && (selected === node.path || selected.startsWith(`${node.path}/`));
  const [open, setOpen] = useState(inside);
  return (
    <li role="treeitem" aria-selected={selected === node.path} aria-expanded={node.children.length ? open : undefined}>
      {node.children.length > 0 && (
        <button type="button" className="twisty" aria-label={`${open ? "Collapse" : "Expand"} ${node.name}`} onClick={() => setOpen(!open)}>
          {open ? "▾" : "▸"}
        </button>
      )}
      <button
        type="button"
        className={selected === node.path ? "current" : ""}
        title={node.own === node.total ? undefined : `${count(node.own)} here, ${count(node.total)} with subfolders`}
        onClick={() => onSelect(node.path)}
      >
        {node.name} <span className="count">{count(node.own)}</span>
      </button>
      {open && node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <Branch key={child.path} node={child} selected={selected} onSelect={onSelect} />
          ))}
        </ul>
      )}
    </li>
  );
}
