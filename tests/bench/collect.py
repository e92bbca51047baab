#!/usr/bin/env python3
"""Joins the scenario files of the suite "bench" (vs_stock writes one JSON
file per scenario) into one table on stdout and one JSON file.

    collect.py RESULTS_DIR OUT_JSON COMMAND
"""
import json
import os
import platform
import sys
import time

ORDER = ["fanout", "proxy", "files", "record"]


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "load_average": list(os.getloadavg())}


def ratio(row):
    o, s = row.get("ours"), row.get("stock")
    if o is None or s is None or s == 0:
        return None
    return o / s


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def main():
    results_dir, out_json, command = sys.argv[1], sys.argv[2], sys.argv[3]
    live555 = os.environ.get("GMS_BENCH_LIVE555", "skipped")
    scenarios = []
    for name in ORDER + sorted(set(f[:-5] for f in os.listdir(results_dir)
                                   if f.endswith(".json")) - set(ORDER)):
        path = os.path.join(results_dir, name + ".json")
        if not os.path.exists(path):
            scenarios.append({"scenario": name, "rows": [], "missing": True})
            continue
        scenarios.append(json.load(open(path)))
    rows = []
    for sc in scenarios:
        if sc.get("missing"):
            rows.append({"scenario": sc["scenario"], "metric": "(no results: the scenario failed)",
                         "unit": "", "ours": None, "stock": None, "ratio": None,
                         "live555": None, "note": ""})
        for r in sc["rows"]:
            r = dict(r, scenario=sc["scenario"], ratio=ratio(r))
            if "live555" not in r:
                r["live555"] = live555
            rows.append(r)
    head = ["scenario", "metric", "unit", "better", "ours", "stock", "ours/stock", "live555"]
    table = [[r["scenario"], r["metric"], r["unit"], r.get("better", ""), fmt(r["ours"]),
              fmt(r["stock"]), fmt(r["ratio"]), fmt(r["live555"])] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h)
              for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    print(line(head))
    print(line(["-" * w for w in widths]))
    for t in table:
        print(line(t))
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": command,
           "machine": machine(), "full": any(sc.get("full") for sc in scenarios), "rows": rows}
    with open(out_json, "w") as f:
        json.dump(doc, f, indent=2)
    print(f"\nmachine: {doc['machine']['nproc']} cores, {doc['machine']['cpu']}, load average "
          + " ".join(f"{x:.1f}" for x in doc["machine"]["load_average"]))
    print("ours/stock: gst-mediaserver's figure over the stock program's; \"better\" says "
          "which way is better for that row")
    print(f"results: {out_json}")
    return 0 if all(not sc.get("missing") for sc in scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
