"""Sign-trail and sign-gallery scenarios shared by the AI labs that read signs (ai-signs, ai-bias).

A trail is a start pose and signs (kind, centre, facing, which coordinate the seed moves
across the robot's path); the robot stops ~0.45 m before each sign's centre line and the
next sign stands on the line it drives after turning. Checkpoints cp1..cp3 lie on legs
after turns. A gallery puts stop, left and right east, north and west of the robot (none:
the south wall). `lab` names the scenarios (`{lab}-{name}`).
"""


def rng(v, d):
    return f"{{ min = {v-d:.2f}, max = {v+d:.2f} }}" if d else f"{v}"
def trail(out, lab, name, title, desc, start, signs, cps, noise, width, lat, face, duration=60.0):
    x, y, h = start
    s = [f"# {lab} ({name}): {desc}",
         "# The robot stops about 0.35 m (front sensor) before each sign, its centre ~0.45 m",
         "# before the sign's centre line, reads it and turns; each next sign stands on the",
         "# line the robot drives after turning. Checkpoints cp1..cp3 lie on legs after turns.",
         "format_version = 1", f'name = "{lab}-{name}"', f'title = "{title}"', f'description = "{desc}"',
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
    open(f"{out}/scenarios/{name}.toml", "w").write("\n".join(s))
def gallery(lab, path, name, title, desc, noise, lat, face, width):
    s = [f"# {lab} ({name}): {desc}",
         "# The robot stands in the middle; east, north, west: stop, left, right; south: no sign (none).",
         "format_version = 1", f'name = "{lab}-{name}"', f'title = "{title}"', f'description = "{desc}"',
         "duration = 120.0", "", "[arena]", "size = [2.4, 2.4]", "",
         "[robot]", "x = { min = 1.18, max = 1.22 }", "y = { min = 1.18, max = 1.22 }", "heading = { min = -2.0, max = 2.0 }",
         f"camera_noise = {noise}", ""]
    for kind, cx, cy, f, along in [("stop", 2.05, 1.2, 180, "y"), ("left", 1.2, 2.05, 270, "x"), ("right", 0.35, 1.2, 0, "y")]:
        cxs = rng(cx, lat) if along == "x" else f"{cx}"
        cys = rng(cy, lat) if along == "y" else f"{cy}"
        s += ["[[signs]]", f'kind = "{kind}"', f"center = [{cxs}, {cys}]", f"facing = {rng(f, face)}", f"width = {width}", ""]
    open(path, "w").write("\n".join(s))
