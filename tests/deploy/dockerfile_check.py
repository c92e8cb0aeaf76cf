#!/usr/bin/env python3
"""Checks deploy/Dockerfile against the machine it was written for, without a Docker engine.

Usage: dockerfile_check.py WARDEN_BINARY SOURCE_ROOT [--dockerfile PATH] [--no-configure]
  (PATH defaults to SOURCE_ROOT/deploy/Dockerfile; --no-configure skips `meson setup`)

- the runtime stage: a slim Debian 12 base, a non-root numeric USER, the binary the build stage
  copies as ENTRYPOINT, WORKDIR on the declared VOLUME, a HEALTHCHECK, the version label's default
  equal to the project's version;
- the runtime stage's packages cover every library `ldd` lists for the binary (through their
  dependencies, as installed here), and each of them but the CA bundle provides one of those
  libraries, so the image carries nothing the binary does not link;
- the build stage's packages provide every library meson.build asks pkg-config for, and its meson
  options configure this tree (`meson setup` into a scratch directory, with a `warden` target).

Prints one line per check and exits 1 when any fails.
"""

import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def check(ok, what):
    print(("ok     " if ok else "FAILED ") + what)
    if not ok:
        failures.append(what)


def instructions(text):
    """(line number, INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    result, pending, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, rest = whole.partition(" ")
        result.append((start, keyword.upper(), rest.strip()))
    return result


def stages(parsed):
    """Instructions grouped by build stage: {name: [(line, INSTRUCTION, args)]}, in order."""
    named, current = {}, None
    for line, keyword, rest in parsed:
        if keyword == "FROM":
            words = rest.split()
            current = words[2] if len(words) >= 3 and words[1].upper() == "AS" else words[0]
            named[current] = []
        if current is not None:
            named[current].append((line, keyword, rest))
    return named


def apt_packages(stage):
    """The packages the stage's `apt-get install` commands name."""
    packages = []
    for _, keyword, rest in stage:
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", rest):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                packages += [w for w in after if not w.startswith("-")]
    return packages


def last(stage, keyword):
    found = [rest for _, k, rest in stage if k == keyword]
    return found[-1] if found else None


def owners(paths):
    """{path: the installed Debian package that owns it (through symlinks), or None}, in one dpkg call."""
    candidates = {}
    for path in paths:
        resolved = str(Path(path).resolve())
        # dpkg records /lib paths; merged-/usr systems resolve them to /usr/lib.
        candidates[path] = [path, resolved] + ([resolved[4:]] if resolved.startswith("/usr/lib/") else [])
    asked = sorted({c for cs in candidates.values() for c in cs})
    out = subprocess.run(["dpkg", "-S", *asked], capture_output=True, text=True).stdout
    owned = {}
    for line in out.splitlines():
        package, _, path = line.partition(": ")
        owned[path.strip()] = package.split(":")[0].split(",")[0].strip()
    return {path: next((owned[c] for c in cs if c in owned), None) for path, cs in candidates.items()}


def owner(path):
    return owners([path])[path]


def depends_closure(packages):
    """The packages and everything they depend on, as installed here."""
    seen, todo = set(), list(packages)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", name],
                             capture_output=True, text=True)
        if out.returncode != 0:
            continue
        for clause in out.stdout.split(","):
            for alternative in clause.split("|"):
                dep = re.sub(r"\(.*?\)|:any", "", alternative).strip()
                if dep:
                    todo.append(dep)
    return seen


def linked_libraries(binary):
    """{library path: package} of every shared library ldd resolves for the binary."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in out.splitlines():
        match = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if match:
            paths.append(match.group(1))
    return owners(paths)


def main():
    binary, root = sys.argv[1], Path(sys.argv[2])
    rest = sys.argv[3:]
    dockerfile = Path(rest[rest.index("--dockerfile") + 1]) if "--dockerfile" in rest else root / "deploy" / "Dockerfile"
    configure = "--no-configure" not in rest
    named = stages(instructions(dockerfile.read_text()))
    check(list(named) == ["build", "runtime"], f"two stages, build then runtime (found {list(named)})")
    build, runtime = named.get("build", []), named.get("runtime", [])

    # The runtime stage.
    base = runtime[0][2].split()[0] if runtime else ""
    check(base == "debian:12-slim", f"runtime base is debian:12-slim (found {base!r})")
    user = last(runtime, "USER") or ""
    uid = user.split(":")[0]
    check(uid.isdigit() and int(uid) != 0 and all(p.isdigit() and int(p) != 0 for p in user.split(":")),
          f"runtime USER is a non-root numeric uid:gid (found {user!r})")
    copies = [rest.split() for _, k, rest in runtime if k == "COPY"]
    binary_copy = [c for c in copies if c[0] == "--from=build"]
    check(len(binary_copy) == 1 and len(binary_copy[0]) == 3, "the runtime stage copies one file from the build stage")
    target = binary_copy[0][2] if binary_copy else ""
    entrypoint = json.loads(last(runtime, "ENTRYPOINT") or "[]")
    check(entrypoint == [target], f"ENTRYPOINT is the copied binary {target!r} (found {entrypoint})")
    volume = json.loads(last(runtime, "VOLUME") or "[]")
    workdir = last(runtime, "WORKDIR")
    check(workdir in volume, f"WORKDIR {workdir!r} is a declared VOLUME {volume}: the only place written")
    check(last(runtime, "HEALTHCHECK") is not None, "the runtime stage has a HEALTHCHECK")
    project = (root / "meson.build").read_text()
    version = re.search(r"version\s*:\s*'([^']+)'", project).group(1)
    arg = last(runtime, "ARG") or ""
    check(arg == f"WARDEN_VERSION={version}", f"the version label's default is the project's {version} (found {arg!r})")
    check(re.fullmatch(r"\d+\.\d+\.\d+", version) is not None, f"the project's version {version} is semantic")

    # The runtime packages against what the binary links.
    runtime_packages = apt_packages(runtime)
    check(bool(runtime_packages), f"runtime packages: {' '.join(runtime_packages)}")
    covered = depends_closure(runtime_packages)
    libraries = linked_libraries(binary)
    check(len(libraries) > 3, f"ldd lists {len(libraries)} libraries of {binary}")
    for library, package in sorted(libraries.items()):
        check(package is not None and package in covered,
              f"{library} ({package}) comes with the runtime packages")
    linked_packages = set(libraries.values())
    for package in runtime_packages:
        if package == "ca-certificates":
            continue
        check(package in linked_packages, f"runtime package {package} provides a library the binary links")

    # The build stage against meson.build.
    build_packages = set(apt_packages(build))
    for name in re.findall(r"dependency\('([^']+)'", project):
        pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", name], capture_output=True, text=True)
        package = owner(f"{pcdir.stdout.strip()}/{name}.pc") if pcdir.returncode == 0 else None
        check(package in build_packages, f"build dependency {name} ({package}) is installed by the build stage")
    doctest = owner("/usr/include/doctest/doctest.h")
    check(doctest in build_packages, f"the tests' doctest header ({doctest}) is installed by the build stage")
    if not configure:
        print(f"{len(failures)} failed")
        return 1 if failures else 0
    setup = next((rest for _, k, rest in build if k == "RUN" and "meson setup" in rest), "")
    words = shlex.split(setup.split("&&")[0])
    options = [w for w in words[words.index("setup") + 2:]] if "setup" in words else []
    with tempfile.TemporaryDirectory() as scratch:
        configured = subprocess.run(["meson", "setup", scratch + "/build", *options], cwd=root,
                                    capture_output=True, text=True)
        check(configured.returncode == 0,
              f"the build stage's `meson setup {' '.join(options)}` configures this tree"
              + ("" if configured.returncode == 0 else ":\n" + configured.stdout[-2000:] + configured.stderr[-2000:]))
        targets = subprocess.run(["ninja", "-C", scratch + "/build", "-t", "targets", "all"],
                                 capture_output=True, text=True).stdout
        check(re.search(r"^warden: ", targets, re.M) is not None, "ninja has the `warden` target the build stage builds")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
