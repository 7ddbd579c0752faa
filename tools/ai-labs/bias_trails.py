"""Writes the ai-bias lab's trail and gallery scenarios.

Usage: python3 tools/ai-labs/bias_trails.py curriculum/labs/ai-bias
The trails work like ai-signs' (tools/ai-labs/signs_trails.py): a start pose and signs
(kind, centre, facing, which coordinate the seed moves across the robot's path); the
robot stops ~0.45 m before each sign's centre line and the next sign stands on the line
it drives after turning. Checkpoints cp1..cp3 lie on legs after turns. Practice trail A
turns only left, so "last year's" model (almost no right-turn pictures) gets it right;
trail B and the hidden trails need right turns. The gallery is ai-signs' (stop, left,
right east, north, west; none: the south wall); hidden/record/ has the author's galleries
for the hidden audit set: close to the students' gallery on purpose, since the lab is about
which labels the data covers, not about new conditions (ai-signs tests those).
"""
import os, sys
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
os.makedirs(OUT + "/hidden/record", exist_ok=True)
def rng(v, d):
    return f"{{ min = {v-d:.2f}, max = {v+d:.2f} }}" if d else f"{v}"
def trail(name, title, desc, start, signs, cps, noise, width, lat, face, duration=60.0):
    x, y, h = start
    s = [f"# ai-bias ({name}): {desc}",
         "# The robot stops about 0.35 m (front sensor) before each sign, its centre ~0.45 m",
         "# before the sign's centre line, reads it and turns; each next sign stands on the",
         "# line the robot drives after turning. Checkpoints cp1..cp3 lie on legs after turns.",
         "format_version = 1", f'name = "ai-bias-{name}"', f'title = "{title}"', f'description = "{desc}"',
         f"duration = {duration}", "", "[arena]", "size = [4.0, 4.0]", "",
         "[robot]", f"x = {rng(x, 0.03)}", f"y = {rng(y, 0.03)}", f"heading = {rng(h, 2)}",
         "motor_noise = 0.01", f"camera_noise = {noise}", ""]
    for kind, cx, cy, f, along in signs:
        # `along`: which coordinate is across the robot's path (seeded laterally)
        cxs = rng(cx, lat) if along == "x" else f"{cx}"
        cys = rng(cy, lat) if along == "y" else f"{cy}"
        s += ["[[signs]]", f'kind = "{kind}"', f"center = [{cxs}, {cys}]", f"facing = {rng(f, face)}", f"width = {width}", ""]
    for i, (cx, cy) in enumerate(cps):
        s += ["[[checkpoints]]", f'name = "cp{i+1}"', f"center = [{cx}, {cy}]", "radius = 0.15", ""]
    open(f"{OUT}/scenarios/{name}.toml", "w").write("\n".join(s))
# (kind, x, y, facing, lateral axis)
trail("trail-a", "Delivery trail A", "practice: left, left, left, stop (no right turn)",
      (0.5, 0.6, 0), [("left", 2.2, 0.6, 180, "y"), ("left", 1.75, 2.6, 270, "x"), ("left", 0.3, 2.15, 0, "y"), ("stop", 0.75, 1.2, 90, "x")],
      [(1.75, 1.3), (1.2, 2.15), (0.75, 1.8)], 0.1, 0.25, 0.0, 0)
trail("trail-b", "Delivery trail B", "practice: left, right, left, stop",
      (0.5, 0.6, 0), [("left", 2.2, 0.6, 180, "y"), ("right", 1.75, 2.0, 270, "x"), ("left", 3.4, 1.55, 180, "y"), ("stop", 2.95, 3.4, 270, "x")],
      [(1.75, 1.2), (2.5, 1.55), (2.95, 2.5)], 0.1, 0.25, 0.0, 0)
trail("trail-c", "Delivery trail C", "hidden: right, left, right, stop; signs seeded 5 cm across the path and turned up to 10 degrees",
      (0.5, 3.4, 0), [("right", 2.2, 3.4, 180, "y"), ("left", 1.75, 2.0, 90, "x"), ("right", 3.4, 2.45, 180, "y"), ("stop", 2.95, 0.6, 90, "x")],
      [(1.75, 2.8), (2.5, 2.45), (2.95, 1.5)], 0.15, 0.25, 0.05, 10)
trail("trail-d", "Delivery trail D", "hidden: five signs, right, left, right, left, stop; stronger lighting noise",
      (0.4, 3.5, 0), [("right", 1.9, 3.5, 180, "y"), ("left", 1.45, 2.0, 90, "x"), ("right", 3.0, 2.45, 180, "y"), ("left", 2.55, 0.9, 90, "x"), ("stop", 3.7, 1.35, 180, "y")],
      [(1.45, 2.9), (2.0, 2.45), (2.55, 1.8)], 0.25, 0.25, 0.03, 10, 70.0)
trail("trail-e", "Delivery trail E", "hidden: left, right, right, stop, seeded 5 cm across the path",
      (0.5, 0.6, 0), [("left", 2.0, 0.6, 180, "y"), ("right", 1.55, 2.1, 270, "x"), ("right", 3.3, 1.65, 180, "y"), ("stop", 2.85, 0.3, 90, "x")],
      [(1.55, 1.1), (2.2, 1.65), (2.85, 1.2)], 0.15, 0.25, 0.05, 0)

def gallery(path, name, title, desc, noise, lat, face, width):
    s = [f"# ai-bias ({name}): {desc}",
         "# The robot stands in the middle; east, north, west: stop, left, right; south: no sign (none).",
         "format_version = 1", f'name = "ai-bias-{name}"', f'title = "{title}"', f'description = "{desc}"',
         "duration = 120.0", "", "[arena]", "size = [2.4, 2.4]", "",
         "[robot]", "x = { min = 1.18, max = 1.22 }", "y = { min = 1.18, max = 1.22 }", "heading = { min = -2.0, max = 2.0 }",
         f"camera_noise = {noise}", ""]
    for kind, cx, cy, f, along in [("stop", 2.05, 1.2, 180, "y"), ("left", 1.2, 2.05, 270, "x"), ("right", 0.35, 1.2, 0, "y")]:
        cxs = rng(cx, lat) if along == "x" else f"{cx}"
        cys = rng(cy, lat) if along == "y" else f"{cy}"
        s += ["[[signs]]", f'kind = "{kind}"', f"center = [{cxs}, {cys}]", f"facing = {rng(f, face)}", f"width = {width}", ""]
    open(path, "w").write("\n".join(s))
gallery(f"{OUT}/scenarios/gallery.toml", "gallery", "Sign gallery", "recording: each seed moves and turns the signs a little", 0.15, 0.03, 10, 0.25)
gallery(f"{OUT}/hidden/record/gallery-a.toml", "gallery-a", "Hidden sign gallery A", "the author's recording for the hidden audit set: the gallery's own variation, a little more light noise", 0.17, 0.03, 10, 0.25)
gallery(f"{OUT}/hidden/record/gallery-b.toml", "gallery-b", "Hidden sign gallery B", "the author's recording for the hidden audit set: signs a little further across and more turned, a little more light noise", 0.2, 0.04, 12, 0.25)
