"""Writes the ai-kmeans lab's car-park scenarios and answer-key recording programs.

Usage: python3 tools/ai-labs/kmeans_lots.py curriculum/labs/ai-kmeans
Each lot is 8 bays per side ('.' empty, 'c' car, 's' SUV, 'e' e-bike, left then right);
vehicles are box obstacles against the back wall with a seeded gap. It prints every lot's
expected report (the cases' expect_output) and writes record.rhai (lot A, the lesson's),
record-lot-b.rhai (the reference's data) and hidden/record/record-lot-c..e.rhai.
"""
import os, sys
OUT = sys.argv[1]
os.makedirs(OUT + "/scenarios", exist_ok=True)
os.makedirs(OUT + "/hidden/record", exist_ok=True)
# per bay: (left, right); '.' empty, 'c' car, 's' SUV, 'e' e-bike
LOTS = {
 "lot-a": ("practice: mixed vehicles", 0.08, 0.005, ["cs", ".c", "e.", "..", "sc", "c.", ".e", ".."]),
 "lot-b": ("practice: another mix", 0.08, 0.005, [".s", "..", "es", "c.", ".c", "ce", "..", "s."]),
 "lot-c": ("hidden: mostly e-bikes", 0.08, 0.005, ["e.", ".e", "ee", ".e", "c.", "..", ".e", "e."]),
 "lot-d": ("hidden: careless parking close to the lane, noisier sensors", 0.12, 0.01, [".s", "c.", "cs", ".e", "..", "s.", ".c", "ec"]),
 "lot-e": ("hidden: almost full", 0.08, 0.005, ["cs", "s.", "ec", ".c", "sc", "cs", "e.", ".s"]),
}
SIZE = {"c": (0.45, 0.40), "s": (0.50, 0.50), "e": (0.25, 0.30)}
def kind(lr):
    l, r = lr[0] == ".", lr[1] == "."
    return {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "full"}[(l, r)]
H = 1.7
def answers(name):
    return [kind(b) for b in LOTS[name][3]]
for name, (desc, gap, noise, bays) in LOTS.items():
    s = [f"# ai-kmeans ({name}): a car-park lane along y = 0.85 m, 8 bays per side, 0.6 m long;",
         "# bay i spans x = 0.5 + 0.6(i - 1) .. 1.1 + 0.6(i - 1). Vehicles are boxes against the back",
         f"# wall (the arena's long sides), {gap} m of seeded gap at most. Expected report:",
         "# " + ", ".join(f"{i+1} {k}" for i, k in enumerate(answers(name))),
         "format_version = 1", f'name = "ai-kmeans-{name}"', f'title = "Car park {name[-1].upper()}"',
         f'description = "{desc}"', "duration = 40.0", "",
         "[arena]", "size = [6.0, 1.7]", "",
         "[robot]", "x = 0.35", "y = { min = 0.82, max = 0.88 }", "heading = 0.0", "motor_noise = 0.0",
         f"distance_noise = {noise}",
         'distance_sensors = [{ name = "left", angle = 90.0, range = 1.5 }, { name = "right", angle = -90.0, range = 1.5 }]',
         "line_sensors = []", "color_sensors = []", "bumpers = []", ""]
    for i, b in enumerate(bays):
        mid = 0.8 + 0.6 * i
        for side, v in zip(("left", "right"), b):
            if v == ".":
                continue
            along, across = SIZE[v]
            if side == "left":
                lo, hi = H - across / 2 - gap, H - across / 2
            else:
                lo, hi = across / 2, across / 2 + gap
            s += ["[[obstacles]]", 'shape = "box"',
                  f"center = [{{ min = {mid - 0.03:.2f}, max = {mid + 0.03:.2f} }}, {{ min = {lo:.3f}, max = {hi:.3f} }}]",
                  f"size = [{along}, {across}]", f'color = "{ {"c": "red", "s": "blue", "e": "green"}[v] }"', ""]
    open(f"{OUT}/scenarios/{name}.toml", "w").write("\n".join(s))
    # answer-key recording program (the author's, for lot-a it is the lesson's record.rhai)
    keys = ", ".join(f'"{k}"' for k in answers(name))
    prog = f"""// 采集 {name} 的数据：每个车位中间记一次，标签是人看过以后写下的答案。
// Record {name}: one sample in the middle of every space, labelled with the answer people wrote down.
let seen = [{keys}];
forward(0.45);
for bay in 1..9 {{
    wait(0.2);
    record(seen[bay - 1]);
    forward(0.6);
}}
"""
    d = OUT if name in ("lot-a", "lot-b") else OUT + "/hidden/record"
    fn = "record.rhai" if name == "lot-a" else f"record-{name}.rhai"
    open(f"{d}/{fn}", "w").write(prog)
    print(name, " ".join(f"{i+1} {k}" for i, k in enumerate(answers(name))))
