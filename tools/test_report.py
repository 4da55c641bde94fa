#!/usr/bin/env python3
"""tools/test.sh's bookkeeping: which selected tests run in which pass, which
failed, and the closing summary (one line per label).

  test_report.py plan ALL.json SELECTED.json DIR
      writes DIR/<pass>.ids (ctest -I files) for the passes host, kvm, rig
  test_report.py failed DIR PASS
      prints the ctest -I line of PASS's tests that did not pass (DIR/PASS.xml)
  test_report.py summary DIR
      prints the summary; exits 1 when a selected test did not pass

ALL.json and SELECTED.json are `ctest -N --show-only=json-v1` without and with
the caller's selection; ctest numbers tests by their place in ALL.json.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

PASSES = ("host", "kvm", "rig")
LABELS = ("unit", "root", "kvm", "rig")
CASE_RERUN = re.compile(r"rerun_failed_cases: passed on the second attempt: (.*)")
L1_REPLACED = "testvm: running the command again in a fresh VM"
RIG_LOST = re.compile(r"rerun_failed_cases: guests lost to the rig's emulated CPU during the first attempt: "
                      r"([0-9]+) \(other guest shutdowns or emulation failures recorded: ([0-9]+)\)")


def labels_of(test):
    for prop in test.get("properties", []):
        if prop["name"] == "LABELS":
            return prop["value"]
    return []


def pass_of(labels):
    return "rig" if "rig" in labels else "kvm" if "kvm" in labels else "host"


def load_tests(path):
    with open(path) as f:
        return json.load(f).get("tests", [])


def ids_line(numbers):
    return "0,0,0," + ",".join(str(n) for n in numbers)


def plan(all_json, selected_json, out):
    number = {t["name"]: i + 1 for i, t in enumerate(load_tests(all_json))}
    chosen = {p: [] for p in PASSES}
    selected = load_tests(selected_json)
    for t in selected:
        chosen[pass_of(labels_of(t))].append(number[t["name"]])
    for p, numbers in chosen.items():
        path = os.path.join(out, p + ".ids")
        if numbers:
            with open(path, "w") as f:
                f.write(ids_line(numbers) + "\n")
        elif os.path.exists(path):
            os.remove(path)
    with open(os.path.join(out, "selected.json"), "w") as f:
        json.dump(selected, f)


def results(xml_path):
    """name -> (state, output) for each test case in a ctest JUnit file; the
    state is "passed", "failed" or "skipped" (the test said so: GTEST_SKIP)."""
    if not os.path.exists(xml_path):
        return {}
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError:
        return {}
    out = {}
    for case in root.iter("testcase"):
        text = case.findtext("system-out") or ""
        if case.get("status") == "run":
            state = "passed"
        elif case.find("skipped") is not None:
            state = "skipped"
        else:
            state = "failed"
        out[case.get("name")] = (state, text)
    return out


def failed(out, name):
    with open(os.path.join(out, name + ".ids")) as f:
        numbers = [int(n) for n in f.read().strip().split(",")[3:]]
    with open(os.path.join(out, "all.json")) as f:
        names = [t["name"] for t in json.load(f)["tests"]]
    got = results(os.path.join(out, name + ".xml"))
    bad = [n for n in numbers if got.get(names[n - 1], ("failed", ""))[0] == "failed"]
    if bad:
        print(ids_line(bad))


def summary(out):
    with open(os.path.join(out, "selected.json")) as f:
        selected = json.load(f)
    first = {p: results(os.path.join(out, p + ".xml")) for p in PASSES}
    second = {p: results(os.path.join(out, p + ".rerun.xml")) for p in PASSES}
    where_path = os.path.join(out, "kvm.where")
    kvm_where = open(where_path).read().strip() if os.path.exists(where_path) else ""
    kvm_log_path = os.path.join(out, "kvm.log")
    kvm_l1_replaced = os.path.exists(kvm_log_path) and L1_REPLACED in open(kvm_log_path).read()

    def tally():
        return {"passed": 0, "failed": [], "skipped": [], "rerun": []}

    counts = {label: tally() for label in LABELS}
    for t in selected:
        name, labels = t["name"], labels_of(t) or ["(no label)"]
        p = pass_of(labels)
        state, text = first[p].get(name, ("failed", ""))  # absent: it never ran
        notes = []
        if name in second[p]:
            state, again = second[p][name]
            notes.append("failed, then ran once more" + (" and passed" if state == "passed" else ""))
            text += again
        for m in CASE_RERUN.finditer(text):
            notes.append("cases that passed on their second attempt in L1: " + m.group(1).strip())
        for m in RIG_LOST.finditer(text):
            lost, other = int(m.group(1)), int(m.group(2))
            note = (f"{lost} guest(s) lost to the rig's emulated CPU during the first attempt"
                    if lost else "no guest lost to the rig's emulated CPU recorded")
            if other:
                # Recorded with their rip and event in the test's output (testvm-... lines).
                note += f", {other} other guest shutdown(s) or emulation failure(s) recorded"
            notes.append(note)
        if L1_REPLACED in text:
            notes.append("L1 died (silent, panicked or reset); the command ran again in a fresh VM")
        for label in labels:
            c = counts.setdefault(label, tally())
            if state == "passed":
                c["passed"] += 1
            else:
                c[state].append(name)
            if notes:
                c["rerun"].append(f"{name}: {'; '.join(notes)}")

    print("== summary")
    bad = False
    for label, c in counts.items():
        total = c["passed"] + len(c["failed"]) + len(c["skipped"])
        if total == 0:
            print(f"{label}: none selected")
            continue
        line = f"{label}: {c['passed']} passed, {len(c['failed'])} failed"
        if c["skipped"]:
            line += f", {len(c['skipped'])} skipped"
        if label == "rig":
            line += f", {len(c['rerun'])} rerun"
        if label == "kvm" and kvm_where:
            line += f"; ran {kvm_where}"
            if kvm_l1_replaced:
                line += " (L1 stopped answering once; the kvm tests ran again in a fresh VM)"
        print(line)
        for name in c["failed"]:
            print(f"  failed {name}")
        for name in c["skipped"]:
            print(f"  skipped {name}")
        for note in c["rerun"]:
            print(f"  rerun {note}")
        bad = bad or bool(c["failed"])
    return 1 if bad else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "plan":
        plan(argv[2], argv[3], argv[4])
        return 0
    if len(argv) == 4 and argv[1] == "failed":
        failed(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "summary":
        return summary(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
