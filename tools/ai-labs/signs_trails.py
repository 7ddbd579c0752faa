"""Writes the ai-signs lab's trail and gallery scenarios.

Usage: python3 tools/ai-labs/signs_trails.py curriculum/labs/ai-signs
A trail is a start pose and signs (kind, centre, facing, which coordinate the seed moves
across the robot's path); the robot stops ~0.45 m before each sign's centre line and the
next sign stands on the line it drives after turning. Checkpoints cp1..cp3 lie on legs
after turns. The galleries put stop, left and right east, north and west of the robot
(none: the south wall); hidden/record/ has the author's galleries for the hidden images.
"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign_scenarios import gallery, trail  # noqa: E402
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
os.makedirs(OUT + "/hidden/record", exist_ok=True)
# (kind, x, y, facing, lateral axis)
trail(OUT, "ai-signs", "trail-a", "Sign trail A", "practice: left, right, left, stop",
      (0.5, 0.6, 0), [("left", 2.2, 0.6, 180, "y"), ("right", 1.75, 2.0, 270, "x"), ("left", 3.4, 1.55, 180, "y"), ("stop", 2.95, 3.4, 270, "x")],
      [(1.75, 1.2), (2.5, 1.55), (2.95, 2.5)], 0.1, 0.25, 0.0, 0)
trail(OUT, "ai-signs", "trail-b", "Sign trail B", "practice: right, left, right, stop (trail A's mirror image)",
      (0.5, 3.4, 0), [("right", 2.2, 3.4, 180, "y"), ("left", 1.75, 2.0, 90, "x"), ("right", 3.4, 2.45, 180, "y"), ("stop", 2.95, 0.6, 90, "x")],
      [(1.75, 2.8), (2.5, 2.45), (2.95, 1.5)], 0.1, 0.25, 0.0, 0)
trail(OUT, "ai-signs", "trail-c", "Sign trail C", "hidden: left, left, right, stop; signs seeded 6 cm across the path and turned up to 20 degrees; dim, flickering light",
      (0.5, 0.6, 0), [("left", 2.4, 0.6, 180, "y"), ("left", 1.95, 2.0, 270, "x"), ("right", 0.6, 1.55, 0, "y"), ("stop", 1.05, 2.9, 270, "x")],
      [(1.95, 1.2), (1.5, 1.55), (1.05, 2.0)], 0.25, 0.25, 0.06, 20)
trail(OUT, "ai-signs", "trail-d", "Sign trail D", "hidden: five signs, right, left, right, left, stop; strong lighting noise",
      (0.4, 3.5, 0), [("right", 1.9, 3.5, 180, "y"), ("left", 1.45, 2.0, 90, "x"), ("right", 3.0, 2.45, 180, "y"), ("left", 2.55, 0.9, 90, "x"), ("stop", 3.7, 1.35, 180, "y")],
      [(1.45, 2.9), (2.0, 2.45), (2.55, 1.8)], 0.3, 0.25, 0.03, 10, 70.0)
trail(OUT, "ai-signs", "trail-e", "Sign trail E", "hidden: left, right, right, stop on smaller 0.2 m signs, seeded 5 cm across the path",
      (0.5, 0.6, 0), [("left", 2.0, 0.6, 180, "y"), ("right", 1.55, 2.1, 270, "x"), ("right", 3.3, 1.65, 180, "y"), ("stop", 2.85, 0.3, 90, "x")],
      [(1.55, 1.1), (2.2, 1.65), (2.85, 1.2)], 0.15, 0.2, 0.05, 0)

gallery("ai-signs", f"{OUT}/scenarios/gallery.toml", "gallery", "Sign gallery", "recording: each seed moves and turns the signs a little", 0.15, 0.03, 10, 0.25)
gallery("ai-signs", f"{OUT}/hidden/record/gallery-small.toml", "gallery-small", "Hidden sign gallery (small signs)", "the author's recording for the hidden images: smaller signs, other angles and light", 0.3, 0.05, 20, 0.2)
gallery("ai-signs", f"{OUT}/hidden/record/gallery-large.toml", "gallery-large", "Hidden sign gallery (large signs)", "the author's recording for the hidden images: larger signs, other angles and light", 0.25, 0.05, 20, 0.3)
