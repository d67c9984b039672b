"""The ``autodiffsource`` command: ``demo`` trains the seed's autoencoder, ``show`` prints generated code.

Contract: :func:`main` parses ``argv`` and returns the exit status (0 on success, 1 when the user's code
cannot be differentiated, 2 for a usage error), printing an :class:`~autodiffsource.errors.ADError` as
its rendered message (file:line:col, the line with a caret, the hint) rather than a traceback into this
package. ``show`` highlights the code with rich on a terminal and prints plain text when piped, so its
output is exactly ``autodiffsource.source(δf)`` there.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import os
import sys
import types

from .errors import ADError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodiffsource",
        description="Reverse-mode automatic differentiation for Python by source-code transformation.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train the seed's autoencoder on scikit-learn's digits",
                               description="Check δautoencoderError against finite differences, train "
                                           "the seed's autoencoder on the 8x8 digits and save a figure.")
    demo.add_argument("--epochs", type=int, default=60, help="passes over the 1500 training digits (60)")
    demo.add_argument("--hidden", type=int, nargs=2, default=(64, 32), metavar=("H1", "H2"),
                      help="sizes of the two encoder layers (64 32)")
    demo.add_argument("--batch-size", type=int, default=32, help="digits per step; 1 is per-sample SGD (32)")
    demo.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="adam (default) or sgd")
    demo.add_argument("--lr", type=float, default=None, help="step size (adam 0.01, sgd 1.0)")
    demo.add_argument("--float32", action="store_true", help="train in float32 (partials stay float32)")
    demo.add_argument("--output", default="autoencoder.png", metavar="PATH",
                      help="where to save the figure (autoencoder.png)")
    demo.add_argument("--seed", type=int, default=0, help="random seed for data split and weights (0)")
    demo.add_argument("--quiet", action="store_true", help="print only the final summary line")

    show = commands.add_parser("show", help="print the generated forward pass and pullback of a function",
                               description="Print the code autodiffsource generates for FUNC in FILE.py.")
    show.add_argument("target", metavar="FILE.py:FUNC", help="a Python file and a function defined in it")
    show.add_argument("--const", type=int, action="append", default=[], metavar="K",
                      help="treat the K-th argument (1-based) as a constant; repeat for several")
    show.add_argument("--value-and-grad", action="store_true",
                      help="print value_and_grad's one function (forward pass and pullback body together) "
                           "instead of the δ function")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="syntax highlighting: on a terminal only (auto), always or never")
    return parser


# ---- show ---------------------------------------------------------------------------------------------

def load_module_from_path(path: str) -> types.ModuleType:
    """Import the file at ``path`` as a module (its own directory importable), so its globals resolve.

    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> file = pathlib.Path(folder, "model.py")
    >>> _ = file.write_text("def f(x):\\n    return x * x\\n")
    >>> load_module_from_path(str(file)).f(3)
    9
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    name = os.path.splitext(os.path.basename(path))[0]
    # A file inside a package is imported under its dotted name, so its relative imports work.
    package, folder = [], os.path.dirname(path)
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        package.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if package:
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return importlib.import_module(".".join(package + [name]))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # sibling imports work, as when the file runs as a script
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def mask_for(fn, consts: list[int]) -> tuple[bool, ...]:
    """The differentiated-argument mask of ``fn`` with the 1-based arguments ``consts`` held constant.

    >>> def f(a, b, c):
    ...     return a * b * c
    >>> mask_for(f, [2, 3])
    (True, False, False)
    """
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for k in consts:
        if not 1 <= k <= len(params):
            raise ValueError(f"--const {k}: `{fn.__name__}` has {len(params)} positional arguments "
                             f"(numbered 1 to {len(params)})")
    return tuple(i + 1 not in consts for i in range(len(params)))


def generated_source(target: str, consts: list[int], value_and_grad: bool = False) -> str:
    """The generated code for ``"FILE.py:FUNC"`` with arguments ``consts`` (1-based) constant
    (``value_and_grad``: the one function ``value_and_grad`` runs, for a function with one output).

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp(), "poly.py")
    >>> _ = file.write_text("def f(x, c):\\n    return c * x * x\\n")
    >>> text = generated_source(f"{file}:f", [2])
    >>> "def δf_const2(x, c):" in text
    True
    """
    from .api import transform, value_and_grad_function

    path, sep, func = target.rpartition(":")
    if not sep or not path or not func:
        raise ValueError(f"expected FILE.py:FUNC, got {target!r}")
    with contextlib.redirect_stdout(sys.stderr):  # the file's own prints must not mix into the code
        module = load_module_from_path(path)
    fn = module
    for part in func.split("."):
        if not hasattr(fn, part):
            raise ValueError(f"{path} defines no `{func}`")
        fn = getattr(fn, part)
    wrt = getattr(fn, "__wrt__", None)  # FUNC may name a δ function itself: δf, δf_const2...
    fn = getattr(fn, "__autodiffsource_primal__", fn)
    if not isinstance(fn, types.FunctionType):
        raise ValueError(f"`{func}` in {path} is a {type(fn).__name__}, not a function")
    mask = mask_for(fn, consts)
    if wrt is not None:
        mask = tuple(a and b for a, b in zip(mask, wrt, strict=True))
    if value_and_grad:
        combined = value_and_grad_function(fn, mask)
        if combined is None:
            raise ValueError(f"`{func}` returns several values: value_and_grad needs exactly one")
        return combined.__source__
    return transform(fn, mask).__source__


def _print_code(text: str, color: str) -> None:
    use_color = color == "always" or (color == "auto" and sys.stdout.isatty()
                                      and os.environ.get("NO_COLOR") is None)
    if not use_color:
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.syntax import Syntax

    # highlight() gives styled text, which soft_wrap prints line for line: long lines wrap in the
    # terminal instead of being cropped to its width, and no background colour is painted.
    styled = Syntax(text, "python", theme="monokai", background_color="default").highlight(text)
    Console(force_terminal=True).print(styled, soft_wrap=True, end="")


# ---- entry --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    >>> import contextlib, io
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["show", "autodiffsource/demo.py:autoencoderError", "--const", "6"])
    >>> status, "def δautoencoderError_const6(We1, We2, Wd, b1, b2, input):" in out.getvalue()
    (0, True)
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "show":
            _print_code(generated_source(args.target, args.const, args.value_and_grad), args.color)
            return 0
        return _demo(args)
    except BrokenPipeError:  # `autodiffsource show ... | head`: the reader left; that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ADError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (OSError, ImportError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _demo(args) -> int:
    from . import demo

    result = demo.run(epochs=args.epochs, hidden=tuple(args.hidden), batch_size=args.batch_size, lr=args.lr,
                      optimizer=args.optimizer, float32=args.float32, output=args.output, seed=args.seed,
                      quiet=args.quiet)
    first, last = result.train_loss[0], result.train_loss[-1]
    print(f"loss per digit {first:.4f} -> {last:.4f} (held-out {result.test_loss[-1]:.4f}) in "
          f"{len(result.train_loss)} epochs, {result.steps} steps, {result.seconds:.1f} s; "
          f"figure: {result.output}")
    return 0
