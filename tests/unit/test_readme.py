"""The README stays short and its links lead somewhere: under 250 lines, every relative link
(to docs/ and the tree) names a file or folder that exists, and no heading carries an issue
number or a date."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_under_250_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250, f"README.md has {len(lines)} lines"


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_the_readme_starts_with_the_two_command_quickstart():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quickstart", 1)[1].split("##", 1)[0]
    block = quick.split("```", 2)[1]
    assert block.split() == ["make", "run", "make", "test"]


def test_no_heading_names_an_issue_or_a_date():
    bad = [f"{page.relative_to(ROOT)}: {line}" for page in PAGES
           for line in page.read_text(encoding="utf-8").splitlines()
           if line.startswith("#") and re.search(r"issue \d+|\b20\d\d-\d\d-\d\d\b", line, re.I)]
    assert not bad, "\n".join(bad)
