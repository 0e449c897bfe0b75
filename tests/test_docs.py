"""The README and --help are the user's manual: keep them true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, flags=re.S)


def test_quickstart_has_exactly_two_commands():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)


def test_ci_runs_the_readme_test_command():
    test_command = quickstart_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def all_commands(group=main, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):
            yield from all_commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path,cmd", list(all_commands()),
                         ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help_and_is_in_readme(path, cmd):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert cmd.help and len(cmd.help) > 20
    command = "labelcycle " + " ".join(path)
    assert command in README, f"README does not document {command!r}"
    if not hasattr(cmd, "commands"):  # groups only hold commands
        assert "--json" in result.output, "every command takes --json"


def library_modules():
    for package in ("labelfns", "weak_supervision", "finetune", "analysis"):
        pkg = importlib.import_module(package)
        yield package
        for info in pkgutil.iter_modules(pkg.__path__):
            yield f"{package}.{info.name}"


@pytest.mark.parametrize("name", list(library_modules()))
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_readme_project_config_is_valid(tmp_path):
    import tomllib

    from weak_supervision.config import config_from_dict

    block = re.search(r"```toml\n(.*?)\n```", README, flags=re.S).group(1)
    config = config_from_dict(tomllib.loads(block), root=tmp_path)
    assert config.project.labels and config.data.path == "data.csv"
