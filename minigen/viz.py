"""Figures: the autograd graph as Graphviz DOT text, and (matplotlib) image grids and curves."""

from __future__ import annotations

from minigen.tensor import Tensor


def to_dot(root: Tensor, name: str = "loss") -> str:
    """The autograd graph that ``root.backward()`` would walk, as Graphviz DOT text.

    Boxes are tensors (leaves show their shape, and ``grad`` if they require one), ellipses the
    ops that made them; arrows point the way the forward pass went. Render with
    ``dot -Tpng graph.dot -o graph.png`` or paste into any online Graphviz viewer; minigen
    itself needs no Graphviz.
    """
    lines = ["digraph autograd {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    ids: dict[int, str] = {}

    def node_id(obj: object, label: str, shape: str) -> str:
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
            lines.append(f'  {ids[id(obj)]} [label="{label}", shape={shape}];')
        return ids[id(obj)]

    out = node_id(root, f"{name}\\n{root.shape}", "box")
    if root._ctx is None:
        lines.append("}")
        return "\n".join(lines)
    stack = [(root._ctx, out)]
    seen = set()
    while stack:  # iterative, like the backward pass itself
        ctx, child = stack.pop()
        op = node_id(ctx, ctx.name, "ellipse")
        lines.append(f"  {op} -> {child};")
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        for parent, shape in zip(ctx.parents, ctx.input_shapes):
            if parent is None:
                continue
            if isinstance(parent, Tensor):  # a leaf
                leaf = node_id(parent, f"leaf {shape}\\nrequires_grad", "box")
                lines.append(f"  {leaf} -> {op};")
            else:
                stack.append((parent, op))
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # drop repeated edges, keep order
