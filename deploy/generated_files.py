"""Writing, or with --check only comparing, the files a deploy/ generator derives from others."""

from pathlib import Path


def write_or_check(here: Path, files: dict, check: bool, regenerate: str) -> int:
    """Writes each of `files` (name relative to `here` -> text), or with `check` lists the stale
    ones with the `regenerate` command; returns the exit status (1 when any is stale)."""
    shown = here.relative_to(here.parent.parent)  # deploy/NAME
    stale = []
    for name, text in files.items():
        path = here / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {shown}/{name}")
    for name in stale:
        print(f"{shown}/{name} is out of date: run {regenerate}")
    return 1 if stale else 0
