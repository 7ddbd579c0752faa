"""Writes the ai-perceptron lab's aisle scenarios (and the hidden recording variants).

Usage: python3 tools/ai-labs/perceptron_aisles.py curriculum/labs/ai-perceptron
Each layout is a list of stretches (a, b): the free distance from the robot's path to the
left and right wall, built as box obstacles against the arena's long sides. Narrow
stretches (a + b < 0.5 m) are yellow zones narrow-N: the answer key the recording robot
reads with its colour sensor in train-*, and the grader's key (slow_on_color) in lane-*,
where the robot has no colour sensor. hidden/record/ holds lane-3..5 with a colour sensor,
for recording the hidden vectors (hidden/make-hidden.sh).
"""
import os, sys
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
os.makedirs(OUT + "/hidden/record", exist_ok=True)
N = None  # no wall on that side
LAYOUTS = {
 "train-a": (0.8, [(0.35,0.35),(0.16,0.26),(0.45,0.16),(0.24,0.16),(0.16,0.50),(0.18,0.18),(0.30,0.55)]),
 "train-b": (0.8, [(0.26,0.17),(0.17,0.45),(0.17,0.22),(0.40,0.40),(0.20,0.16),(0.55,0.17),(0.30,0.30)]),
 "lane-1": (0.8, [(0.30,0.40),(0.16,0.24),(0.50,0.20),(0.25,0.17),(0.40,0.40),(0.20,0.20),(0.17,0.48)]),
 "lane-2": (0.8, [(0.17,0.25),(0.35,0.35),(0.28,0.16),(0.16,0.52),(0.45,0.45),(0.19,0.19),(0.30,0.35)]),
 "lane-3": (0.8, [(0.45,0.30),(0.16,0.28),(0.50,0.25),(0.17,0.26),(0.45,0.30),(0.16,0.22),(0.50,0.25)]),
 "lane-4": (0.8, [(0.30,0.45),(0.28,0.16),(N,0.30),(0.26,0.17),(0.25,0.50),(0.22,0.16),(0.35,0.35)]),
 "lane-5": (0.5, [(0.40,0.30),(0.20,0.18),(0.45,0.45),(0.17,0.17),(0.31,0.31),(0.24,0.18),(0.30,0.40),(0.18,0.22),(0.50,0.25),(0.35,0.35),(0.35,0.35)]),
}
TITLES = {
 "train-a": ("Training aisle A", "training: the narrow stretches are painted yellow (the answer key); the robot has a colour sensor to read it"),
 "train-b": ("Training aisle B", "the test set's aisle: other widths, painted like training aisle A"),
 "lane-1": ("Aisle 1", "practice: narrow stretches on either side"),
 "lane-2": ("Aisle 2", "practice: another mix of widths"),
 "lane-3": ("Aisle 3", "hidden: narrow only on the left"),
 "lane-4": ("Aisle 4", "hidden: narrow only on the right, and a stretch with no left wall"),
 "lane-5": ("Aisle 5", "hidden: short 0.5 m stretches, widths close to the rule on both sides"),
}
H = 1.6; Y = 0.8; X0 = 0.6
def scenario(name, record, hidden_rec=False):
    L, st = LAYOUTS[name]
    training = name.startswith("train") or hidden_rec
    title, desc = TITLES[name]
    s = []
    s.append(f"# ai-perceptron ({name}): a straight aisle along y = 0.8 m; stretches of {L} m from x = 0.6,")
    s.append("# each (a, b) = free distance from the robot's path to the left and right wall.")
    s.append("# Narrow means a + b < 0.5 m; narrow stretches are the yellow zones narrow-N.")
    if not training:
        s.append("# The robot has no colour sensor here: the yellow paint is the grader's answer key only.")
    s.append("format_version = 1")
    s.append(f'name = "ai-perceptron-{name}{"-record" if hidden_rec else ""}"')
    s.append(f'title = "{title}"')
    s.append(f'description = "{desc}"')
    s.append("duration = 45.0" if not training else "duration = 60.0")
    s.append("")
    s.append("[arena]\nsize = [7.0, 1.6]\n")
    s.append("[robot]\nx = 0.3\ny = { min = 0.77, max = 0.83 }\nheading = 0.0\nmotor_noise = 0.0\ndistance_noise = 0.003")
    s.append('distance_sensors = [{ name = "left", angle = 90.0, range = 1.5 }, { name = "right", angle = -90.0, range = 1.5 }]')
    s.append("line_sensors = []")
    if training:
        s.append('color_sensors = [{ name = "floor", x = 0.0, y = 0.0 }]')
    else:
        s.append("color_sensors = []")
    s.append("bumpers = []\n")
    # walls: lead-in and tail (0.35 each side), stretches
    segs = [(0.0, X0, 0.35, 0.35)]
    x = X0
    for a, b in st:
        segs.append((x, x + L, a, b)); x += L
    segs.append((x, 7.0, 0.35, 0.35))
    for x0, x1, a, b in segs:
        w = round(x1 - x0, 3); cx = round((x0 + x1) / 2, 3)
        if a is not None:
            h = round(H - (Y + a), 3); cy = round(Y + a + h / 2, 3)
            s.append(f'[[obstacles]]\nshape = "box"\ncenter = [{cx}, {cy}]\nsize = [{w}, {h}]\ncolor = "gray"\n')
        h = round(Y - b, 3); cy = round(h / 2, 3)
        s.append(f'[[obstacles]]\nshape = "box"\ncenter = [{cx}, {cy}]\nsize = [{w}, {h}]\ncolor = "gray"\n')
    k = 0
    for x0, x1, a, b in segs[1:-1]:
        aa = a if a is not None else H - Y
        if aa + b < 0.5:
            k += 1
            s.append(f'[[zones]]\nname = "narrow-{k}"\nrect = [{round(x0,3)}, {round(Y-b,3)}, {round(x1,3)}, {round(Y+aa,3)}]\ncolor = "yellow"\n')
    s.append('[[zones]]\nname = "end"\nrect = [6.3, 0.5, 6.7, 1.1]\ncolor = "blue"')
    return "\n".join(s) + "\n"
for n in LAYOUTS:
    open(f"{OUT}/scenarios/{n}.toml", "w").write(scenario(n, False))
for n in ["lane-3", "lane-4", "lane-5"]:
    open(f"{OUT}/hidden/record/{n}.toml", "w").write(scenario(n, False, hidden_rec=True))
