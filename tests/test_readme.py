"""The README runs as written, shows the code autodiffsource really generates, and every public function
has a docstring with an example (the examples themselves run under ``--doctest-modules``).
"""

import inspect
import os
import re
import subprocess
import sys

import autodiffsource
from autodiffsource import cli, demo

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, "README.md")


def blocks(language):
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M)


def test_readme_python_blocks_run_in_order(tmp_path):
    code = blocks("python")
    assert len(code) >= 6
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(code) + "\nprint('README ok')\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("README ok")


def test_readme_shows_the_code_really_generated(tmp_path):
    """The generated-code listing is what `autodiffsource show` prints for the first example."""
    (tmp_path / "quickstart.py").write_text(blocks("python")[0], encoding="utf-8")
    text = cli.generated_source(f"{tmp_path / 'quickstart.py'}:loss", [3, 4])
    generated = text.split("\n", 1)[1]  # past the header line, which names the absolute path
    listing = next(b for b in blocks("text") if "def δloss_const3_const4" in b)
    assert listing == generated, (
        "README.md's listing is stale: replace it with the output of "
        "`autodiffsource show quickstart.py:loss --const 3 --const 4` minus its first line")


def test_readme_set_up_commands_are_exact():
    (setup,) = [b for b in blocks("bash") if "make demo" in b]
    commands = [line.split("#")[0].strip() for line in setup.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as f:
        makefile = f.read()
    assert "\ndemo:" in makefile and "\ntest:" in makefile


def public_functions():
    for name in autodiffsource.__all__:
        obj = getattr(autodiffsource, name)
        if inspect.isfunction(obj):
            yield f"autodiffsource.{name}", obj
    for module in (cli, demo):
        for name, obj in vars(module).items():
            generated = hasattr(obj, "__autodiffsource_primal__")  # δf stubs bound by @δ
            if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == module.__name__ \
                    and not generated:
                yield f"{module.__name__}.{name}", obj


def test_every_public_function_has_an_example():
    names = dict(public_functions())
    assert "autodiffsource.grad" in names and "autodiffsource.cli.main" in names
    missing = [name for name, fn in names.items() if ">>>" not in (fn.__doc__ or "")]
    assert missing == [], f"public functions without a doctest example: {missing}"
