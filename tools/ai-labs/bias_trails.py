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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign_scenarios import gallery, trail  # noqa: E402
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
os.makedirs(OUT + "/hidden/record", exist_ok=True)
# (kind, x, y, facing, lateral axis)
trail(OUT, "ai-bias", "trail-a", "Delivery trail A", "practice: left, left, left, stop (no right turn)",
      (0.5, 0.6, 0), [("left", 2.2, 0.6, 180, "y"), ("left", 1.75, 2.6, 270, "x"), ("left", 0.3, 2.15, 0, "y"), ("stop", 0.75, 1.2, 90, "x")],
      [(1.75, 1.3), (1.2, 2.15), (0.75, 1.8)], 0.1, 0.25, 0.0, 0)
trail(OUT, "ai-bias", "trail-b", "Delivery trail B", "practice: left, right, left, stop",
      (0.5, 0.6, 0), [("left", 2.2, 0.6, 180, "y"), ("right", 1.75, 2.0, 270, "x"), ("left", 3.4, 1.55, 180, "y"), ("stop", 2.95, 3.4, 270, "x")],
      [(1.75, 1.2), (2.5, 1.55), (2.95, 2.5)], 0.1, 0.25, 0.0, 0)
trail(OUT, "ai-bias", "trail-c", "Delivery trail C", "hidden: right, left, right, stop; signs seeded 5 cm across the path and turned up to 10 degrees",
      (0.5, 3.4, 0), [("right", 2.2, 3.4, 180, "y"), ("left", 1.75, 2.0, 90, "x"), ("right", 3.4, 2.45, 180, "y"), ("stop", 2.95, 0.6, 90, "x")],
      [(1.75, 2.8), (2.5, 2.45), (2.95, 1.5)], 0.15, 0.25, 0.05, 10)
trail(OUT, "ai-bias", "trail-d", "Delivery trail D", "hidden: five signs, right, left, right, left, stop; stronger lighting noise",
      (0.4, 3.5, 0), [("right", 1.9, 3.5, 180, "y"), ("left", 1.45, 2.0, 90, "x"), ("right", 3.0, 2.45, 180, "y"), ("left", 2.55, 0.9, 90, "x"), ("stop", 3.7, 1.35, 180, "y")],
      [(1.45, 2.9), (2.0, 2.45), (2.55, 1.8)], 0.25, 0.25, 0.03, 10, 70.0)
trail(OUT, "ai-bias", "trail-e", "Delivery trail E", "hidden: left, right, right, stop, seeded 5 cm across the path",
      (0.5, 0.6, 0), [("left", 2.0, 0.6, 180, "y"), ("right", 1.55, 2.1, 270, "x"), ("right", 3.3, 1.65, 180, "y"), ("stop", 2.85, 0.3, 90, "x")],
      [(1.55, 1.1), (2.2, 1.65), (2.85, 1.2)], 0.15, 0.25, 0.05, 0)

gallery("ai-bias", f"{OUT}/scenarios/gallery.toml", "gallery", "Sign gallery", "recording: each seed moves and turns the signs a little", 0.15, 0.03, 10, 0.25)
gallery("ai-bias", f"{OUT}/hidden/record/gallery-a.toml", "gallery-a", "Hidden sign gallery A", "the author's recording for the hidden audit set: the gallery's own variation, a little more light noise", 0.17, 0.03, 10, 0.25)
gallery("ai-bias", f"{OUT}/hidden/record/gallery-b.toml", "gallery-b", "Hidden sign gallery B", "the author's recording for the hidden audit set: signs a little further across and more turned, a little more light noise", 0.2, 0.04, 12, 0.25)
