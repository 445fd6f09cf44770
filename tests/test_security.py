"""No credentials in the repository, and the README warns that a user reward is imported code."""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = re.compile(r"AKIA[0-9A-Z]{16}|aws_secret_access_key\s*[=:]\s*\S+|BEGIN [A-Z ]*PRIVATE KEY")


def test_no_credentials_in_tracked_files():
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    leaks = [
        f
        for f in files
        if (REPO / f).is_file()
        and not f.endswith(".png")
        and SECRET.search((REPO / f).read_text(errors="ignore"))
    ]
    assert leaks == []


def test_readme_says_a_reward_module_is_imported_and_run():
    readme = (REPO / "README.md").read_text()
    assert "imports and runs that" in readme and "ray dashboard cluster.yaml" in readme
