#!/usr/bin/env bash
# Style and static checks: clang-format-14 in check mode on every C++ file (src include tests bench
# fuzz), then clang-tidy-14 (.clang-tidy) on the sources of src/ and bench/ and the headers they
# include (include/warden, src), files in parallel. tests/ is left out for now: clang-14 cannot
# parse its lambdas that capture structured bindings (C++20, gcc only), and it would add a third
# to the run time. Nothing is compiled: clang-tidy reads build-lint/, a clang build dir that is
# only configured (compile_commands.json and the configured warden_version.hpp are all it needs).
# Exits non-zero on any finding and ends with one summary line.
#   --no-format-check   skip clang-format (while the tree is not formatted yet)
#   --no-tidy           skip clang-tidy
#   LINT_JOBS=N         clang-tidy processes at once (default: nproc)
set -uo pipefail
cd "$(dirname "$0")/.."

format_check=1
tidy=1
for arg in "$@"; do
    case "$arg" in
        --no-format-check) format_check=0 ;;
        --no-tidy) tidy=0 ;;
        *) echo "usage: scripts/lint.sh [--no-format-check] [--no-tidy]" >&2; exit 2 ;;
    esac
done
jobs=${LINT_JOBS:-$(nproc)}
build=build-lint
started=$(date +%s)
summary=()
failed=0

if ((format_check)); then
    mapfile -t cxx_files < <(find src include tests bench fuzz -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
    # One error per file is enough to name it; `clang-format-14 -i FILE` fixes it.
    mapfile -t unformatted < <(clang-format-14 --dry-run -Werror --ferror-limit=1 "${cxx_files[@]}" 2>&1 |
        sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
    if ((${#unformatted[@]})); then
        echo "=== clang-format: ${#unformatted[@]} files differ from .clang-format (fix with clang-format-14 -i FILE):"
        printf '  %s\n' "${unformatted[@]}"
        failed=1
    fi
    summary+=("clang-format ${#unformatted[@]} of ${#cxx_files[@]} files unformatted")
fi

if ((tidy)); then
    if [ ! -f "$build/compile_commands.json" ]; then
        # clang, as the checks parse with clang (and meson.build's clang-only defines apply).
        CC=clang-14 CXX=clang++-14 meson setup "$build" --wrap-mode=nodownload >"$build.setup.log" 2>&1 ||
            { cat "$build.setup.log"; echo "lint: cannot configure $build"; exit 1; }
        rm -f "$build.setup.log"
    else
        # Reconfigures (and rewrites compile_commands.json) when a meson.build changed; builds nothing.
        ninja -C "$build" build.ninja >/dev/null || { echo "lint: cannot reconfigure $build"; exit 1; }
    fi
    # One entry per source (test support is compiled by several targets), and only those of src/
    # and bench/: not tests/ (see above), nor generated files in the build dir.
    mkdir -p "$build/tidy"
    python3 - "$build" <<'PY' || { echo "lint: cannot read $build/compile_commands.json"; exit 1; }
import json, os, sys
build = sys.argv[1]
root = os.getcwd()
seen, kept = set(), []
for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, root)
    if path in seen or rel.split(os.sep)[0] not in ("src", "bench"):
        continue
    seen.add(path)
    kept.append(entry)
json.dump(kept, open(os.path.join(build, "tidy", "compile_commands.json"), "w"), indent=1)
open(os.path.join(build, "tidy", "files"), "w").write("".join(p + "\n" for p in sorted(seen)))
PY
    out="$build/tidy/out"
    rm -rf "$out"
    mkdir -p "$out"
    # Each file's report goes to its own log, so parallel runs do not interleave.
    xargs -P "$jobs" -I{} sh -c 'f="$1"; clang-tidy-14 -p "$2" --quiet --warnings-as-errors="*" "$f" \
        >"$3/$(echo "$f" | tr / _).log" 2>&1 || echo "$f" >>"$3/failed"' _ {} "$build/tidy" "$out" \
        <"$build/tidy/files"
    tidy_files=$(wc -l <"$build/tidy/files")
    # Paths relative to the tree, and each finding once: a header's is reported by every file
    # that includes it.
    python3 - "$build" "$out" >"$build/tidy/report" <<'PY'
import glob, os, re, sys
build, out = sys.argv[1], sys.argv[2]
root = os.getcwd()
diagnostic = re.compile(r"^(\S.*?):(\d+):(\d+): (warning|error|note): (.*)$")
tally = re.compile(r"^\d+ (warnings?|errors?) (generated|treated as errors)\.$")
seen, show = set(), False
for log in sorted(glob.glob(os.path.join(out, "*.log"))):
    for line in open(log, errors="replace").read().splitlines():
        if tally.match(line):
            continue
        m = diagnostic.match(line)
        if m:
            path = m.group(1) if os.path.isabs(m.group(1)) else os.path.join(build, m.group(1))
            path = os.path.relpath(os.path.normpath(path), root)
            line = f"{path}:{m.group(2)}:{m.group(3)}: {m.group(4)}: {m.group(5)}"
            line = line.replace(",-warnings-as-errors]", "]")
            if m.group(4) != "note":
                show = line not in seen
                seen.add(line)
        if show:
            print(line)
PY
    count=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' "$build/tidy/report" || true)
    if [ -s "$out/failed" ] || ((count)); then
        echo "=== clang-tidy:"
        cat "$build/tidy/report"
        if ((count == 0)); then
            # No finding, yet clang-tidy failed (no compile command, a crash): show what it said.
            while read -r f; do
                echo "clang-tidy failed on $f:"
                cat "$out/$(echo "$f" | tr / _).log"
            done <"$out/failed"
            count=$(wc -l <"$out/failed")
        fi
        failed=1
    fi
    summary+=("clang-tidy $count findings in $tidy_files files")
fi

elapsed=$(($(date +%s) - started))
text=""
for part in "${summary[@]}"; do text+="${text:+; }$part"; done
if ((failed)); then
    echo "lint FAILED: $text (${elapsed}s)"
    exit 1
fi
echo "lint passed: $text (${elapsed}s)"
