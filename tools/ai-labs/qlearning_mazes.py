"""Writes the ai-qlearning lab's maze scenarios from the text drawings below.

Usage: python3 tools/ai-labs/qlearning_mazes.py curriculum/labs/ai-qlearning
Walls come from the drawings (the arena's boundary replaces the outline), `M` cells
become brown zones (mud-avoidable-N when no reward-optimal route crosses them, else
mud-N), `E` the green zone `exit`, and cell [0, 0] the unpainted zone `start`.
"""
import os, sys
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
MAZES = {
"maze-a": ("practice 1", {(4,1)}, """
+---+---+---+---+---+
|       |         E |
+   +   +   +---+   +
|   |   |       |   |
+   +   +   +   +   +
|   |       |   | M |
+   +---+---+   +   +
| S                 |
+---+---+---+---+---+"""),
"maze-b": ("practice 2", {(2,1)}, """
+---+---+---+---+---+
|   |             E |
+   +   +---+---+   +
|       |       |   |
+---+   +   +   +   +
|       | M     |   |
+   +---+   +---+   +
| S         |       |
+---+---+---+---+---+"""),
"maze-c": ("hidden 1", {(1,1)}, """
+---+---+---+---+---+
|       | M       E |
+   +   +   +---+---+
|   |           |   |
+   +---+---+   +   +
|   | M         |   |
+   +   +---+   +   +
| S     |           |
+---+---+---+---+---+"""),
"maze-d": ("hidden 2", set(), """
+---+---+---+---+---+
|               | E |
+   +---+---+   +   +
|   |       |     M |
+   +   +   +---+   +
|       |   |       |
+---+   +   +   +---+
| S     |           |
+---+---+---+---+---+"""),
"maze-e": ("hidden 3", {(3,1)}, """
+---+---+---+---+---+
| M             | E |
+   +---+---+   +   +
|       |   |       |
+---+   +   +---+   +
|   |       | M |   |
+   +---+   +   +   +
| S             |   |
+---+---+---+---+---+"""),
}
C = 0.5
for name, (use, avoidable, art) in MAZES.items():
    lines = art.strip("\n").split("\n")
    assert len(lines) == 9, name
    rows = 4
    walls = []   # (x0,y0,x1,y1)
    cells = {}
    for i, line in enumerate(lines):
        if i % 2 == 0:   # horizontal border line; y index from top
            yline = rows - i // 2
            for c in range(5):
                if line[1 + 4*c: 4 + 4*c] == "---":
                    walls.append((c*C, yline*C, (c+1)*C, yline*C))
        else:
            r = rows - 1 - i // 2
            for c in range(6):
                if line[4*c] == "|":
                    walls.append((c*C, r*C, c*C, (r+1)*C))
            for c in range(5):
                ch = line[4*c + 2]
                if ch != " ":
                    cells[(c, r)] = ch
    # merge collinear adjacent segments
    def merge(ws):
        out = []
        hs = sorted([w for w in ws if w[1] == w[3]], key=lambda w: (w[1], w[0]))
        vs = sorted([w for w in ws if w[0] == w[2]], key=lambda w: (w[0], w[1]))
        for w in hs:
            if out and out[-1][1] == w[1] and out[-1][3] == w[3] and abs(out[-1][2] - w[0]) < 1e-9 and out[-1][1] == out[-1][3]:
                out[-1] = (out[-1][0], w[1], w[2], w[3])
            else:
                out.append(w)
        res = out; out = []
        for w in vs:
            if out and out[-1][0] == w[0] and abs(out[-1][3] - w[1]) < 1e-9:
                out[-1] = (w[0], out[-1][1], w[2], w[3])
            else:
                out.append(w)
        return res + out
    walls = [w for w in merge(walls) if not ((w[0] == w[2] and w[0] in (0, 2.5)) or (w[1] == w[3] and w[1] in (0, 2.0)))]
    s = [f"# ai-qlearning ({name}, {use}): a 5 x 4 maze of 0.5 m cells, drawn as in LABS.md:"]
    s += ["# " + l for l in lines]
    s += ["# S start (zone start), E exit (green zone exit), M mud (brown zones: mud-avoidable-N when",
          "# no reward-optimal route crosses it, mud-N when one must). The seed only moves the start pose.",
          "format_version = 1", f'name = "ai-qlearning-{name}"', f'title = "Maze {name[-1].upper()}"',
          f'description = "{use}"', "duration = 450.0", "", "[arena]", "size = [2.5, 2.0]", "",
          "[robot]", "x = { min = 0.23, max = 0.27 }", "y = { min = 0.23, max = 0.27 }", "heading = { min = -2.0, max = 2.0 }",
          "motor_noise = 0.01", ""]
    for x0, y0, x1, y1 in walls:
        s += ["[[walls]]", f"from = [{x0:g}, {y0:g}]", f"to = [{x1:g}, {y1:g}]", ""]
    s += ["[[zones]]", 'name = "start"', "rect = [0.0, 0.0, 0.5, 0.5]", ""]
    n_av = n_mud = 0
    for (c, r), ch in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rect = f"rect = [{c*C:g}, {r*C:g}, {(c+1)*C:g}, {(r+1)*C:g}]"
        if ch == "E":
            s += ["[[zones]]", 'name = "exit"', rect, 'color = "green"', ""]
        elif ch == "M":
            if (c, r) in avoidable:
                n_av += 1; nm = f"mud-avoidable-{n_av}"
            else:
                n_mud += 1; nm = f"mud-{n_mud}"
            s += ["[[zones]]", f'name = "{nm}"', rect, 'color = "brown"', ""]
    open(f"{OUT}/scenarios/{name}.toml", "w").write("\n".join(s))
    print(name, len(walls), "walls", cells)
