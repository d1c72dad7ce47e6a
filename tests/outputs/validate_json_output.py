#!/usr/bin/env python3
"""Runs `tdsim run --format json` on one backend over guests that between them produce
every event type, and checks each line against docs/tdsim-events.schema.json: a header
first (carrying the version `tdsim --version` prints), a summary last whose exit_code is
the process's, nothing else on stdout. Where
the backend runs, every event type the backend can produce must have appeared (a schema
that a shape slips past is no check); where it cannot, each run is a schema-valid SKIP
with exit 4."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

# Event types each backend produces over the scenarios below. On plain KVM the
# conformance guest skips its TDX checks (CPUID says it is not a TD), so no VMCALL
# reaches a VMM; the TDCALL storm's unknown leaf is rejected by tdsim's TDX module on
# both (KVM feeds it the TDCALLs it traps).
ALL_TYPES = {"ucall", "mmio", "tdcall_rejected", "vmcall_exit", "guest_memory_error",
             "fault", "halt", "budget"}
# No halt on plain KVM either: outside a TD (by its CPUID) the runtime's final HLT has no
# #VE gate, which a TD — and tdsim's plain-KVM backend, playing one — makes a shutdown.
EXPECTED_TYPES = {"unicorn": ALL_TYPES,
                  "kvm": ALL_TYPES - {"vmcall_exit", "halt"},
                  # `tdsim exec --format json`: the user-space KVM's engine reports what its
                  # vCPUs produce; ucalls, MMIO and VMCALLs go to the program as KVM exits.
                  "exec": {"fault", "budget", "tdcall_rejected"}}


def main():
    ap = argparse.ArgumentParser()
    for opt in ("tdsim", "backend", "schema", "guest-assert", "guest-loop", "guest-conformance",
                "guest-bad-strings", "guest-output-bytes", "guest-tdcall-storm", "stub-no-pae"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    with open(a.schema, encoding="ascii") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    version = subprocess.run([a.tdsim, "--version"], stdout=subprocess.PIPE, check=True,
                             timeout=60).stdout.decode("ascii").strip()
    # Backend "exec": each scenario is `tdsim run --backend kvm-tdx` under `tdsim exec
    # --format json --output FILE`, and FILE is checked as run's stdout is.
    on_exec = a.backend == "exec"
    budget = ["--max-insns", "200000"] if a.backend in ("unicorn", "exec") else ["--timeout", "0.3"]
    scenarios = {
        "hello": [],
        "assert": ["--guest", a.guest_assert],
        "budget": budget + ["--guest", a.guest_loop],
        "stub fault": ["--stub", a.stub_no_pae],
        "conformance guest": ["--vcpus", "2", "--guest", a.guest_conformance],
        "bad strings": ["--vcpus", "3", "--guest", a.guest_bad_strings],
        "hostile output bytes": ["--vcpus", "4", "--guest", a.guest_output_bytes],
        "tdcall storm": ["--guest", a.guest_tdcall_storm],
    }
    problems, seen, skipped = [], set(), 0
    for name, args in scenarios.items():
        if on_exec:
            events = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
            pre = args[:2] if args[:1] == ["--max-insns"] else []
            cmd = ([a.tdsim, "exec", "--format", "json", "--output", events] + pre +
                   ["--", a.tdsim, "run", "--backend", "kvm-tdx"] + args[len(pre):])
        else:
            cmd = [a.tdsim, "run", "--format", "json", "--backend", a.backend] + args
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if on_exec:
            with open(events, "rb") as f:
                p.stdout = f.read()
            os.unlink(events)
        where = f"{name} ({' '.join(cmd)})"
        try:
            lines = p.stdout.decode("ascii").splitlines()
        except UnicodeDecodeError as e:
            problems.append(f"{where}: stdout is not ASCII: {e}")
            continue
        if len(lines) < 2:
            problems.append(f"{where}: {len(lines)} line(s), exit {p.returncode}; stderr: {p.stderr.decode(errors='replace')}")
            continue
        records, validated = [], {}
        for i, line in enumerate(lines, 1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: line {i} is not JSON: {e}")
                continue
            records.append(rec)
            # Every line parses; the schema check stops after the first 200 lines of a
            # type per run (the TDCALL storm prints 20,000 alike, which would take minutes).
            kind = rec.get("type") if isinstance(rec, dict) else None
            validated[kind] = validated.get(kind, 0) + 1
            if validated[kind] > 200:
                continue
            for err in validator.iter_errors(rec):
                problems.append(f"{where}: line {i} ({kind}): {err.message[:300]}")
        if not records:
            continue
        if records[0].get("type") != "header":
            problems.append(f"{where}: the first line is not the header")
        elif f"tdsim {records[0].get('version')}" != version:
            problems.append(f"{where}: header version {records[0].get('version')!r}, tdsim --version says {version!r}")
        if any(r.get("type") in ("header", "summary") for r in records[1:-1]):
            problems.append(f"{where}: a header or summary in the middle")
        summary = records[-1]
        if summary.get("type") != "summary":
            problems.append(f"{where}: the last line is not the summary")
        elif summary.get("exit_code") != p.returncode:
            problems.append(f"{where}: summary exit_code {summary.get('exit_code')}, process exit {p.returncode}")
        elif summary.get("events") != len(records) - 2:
            problems.append(f"{where}: summary counts {summary.get('events')} events, {len(records) - 2} printed")
        skipped += summary.get("outcome") == "SKIP"
        seen.update(r["type"] for r in records[1:-1] if "type" in r)

    if skipped not in (0, len(scenarios)):
        problems.append(f"{skipped} of {len(scenarios)} runs skipped: a backend runs or it does not")
    if skipped == 0:
        missing = EXPECTED_TYPES.get(a.backend, ALL_TYPES) - seen
        if missing:
            problems.append(f"event types never produced on {a.backend}: {sorted(missing)}")
    for pr in problems:
        print(pr)
    print(f"{a.backend}: {len(scenarios)} runs, {'all skipped' if skipped else 'types seen ' + str(sorted(seen))}, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
