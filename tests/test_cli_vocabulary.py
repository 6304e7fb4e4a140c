"""One CLI vocabulary (shoes_generator.cli_common): deprecated spellings, exit codes 2 (usage) and 1 (run time).

Fast checks without a trained model: the trainers, exporters and servers the commands call are replaced
where a run-time failure is needed.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shoes_generator import cli_common

ROOT = Path(__file__).resolve().parents[1]
WARNING = "DeprecationWarning: {old} is deprecated, use {new}; the old spelling goes in the next release"


def test_a_deprecated_alias_sets_the_new_dest_warns_once_and_is_hidden(capsys):
    parser = argparse.ArgumentParser(prog="demo")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", dest="model")
    cli_common.add_deprecated(model, "--name", "--model", dest="model")
    parser.add_argument("-n", "--count", type=cli_common.positive_int, default=3)
    cli_common.add_deprecated(parser, "--samples", "-n/--count", dest="count", type=cli_common.positive_int)
    assert vars(parser.parse_args(["--model", "a"])) == {"model": "a", "count": 3}
    assert capsys.readouterr().err == ""
    assert vars(parser.parse_args(["--name=b", "--samples", "7"])) == {"model": "b", "count": 7}
    assert capsys.readouterr().err.splitlines() == [
        "demo: " + WARNING.format(old="--name", new="--model"),
        "demo: " + WARNING.format(old="--samples", new="-n/--count"),
    ]
    assert "--name" not in parser.format_help() and "--samples" not in parser.format_help()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([])
    assert exit_info.value.code == cli_common.EXIT_USAGE and "-h" not in capsys.readouterr().err.splitlines()[-1]


def test_the_label_and_host_port_types():
    assert cli_common.label("color=red") == ("color", "red")
    assert cli_common.host_port("localhost:8500") == ("localhost", 8500)
    assert cli_common.host_port("[::1]:9") == ("::1", 9)
    for bad in ("color", "=red", "color="):
        with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
            cli_common.label(bad)
    for bad in ("localhost", ":8500", "host:port"):
        with pytest.raises(argparse.ArgumentTypeError, match="HOST:PORT"):
            cli_common.host_port(bad)


def test_cli_common_does_not_import_tensorflow():
    code = "import sys; import shoes_generator.cli_common; assert 'tensorflow' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# shoes-export


def test_export_takes_model_and_the_old_name_with_a_warning(tmp_path, monkeypatch, capsys):
    import shoes_generator.publish
    from serving.export_cli import main as shoes_export

    calls = []

    def fake_export(run_dir, model_base, name, version):
        calls.append((name, version))
        return Path(model_base) / name / "3", 12

    monkeypatch.setattr(shoes_generator.publish, "export_run", fake_export)
    (tmp_path / "config.json").write_text("{}")
    assert shoes_export([str(tmp_path), "--model-base", str(tmp_path / "m"), "--model", "shoes"]) == 0
    assert json.loads(capsys.readouterr().out) == {"model": "shoes", "version": 3, "path": str(tmp_path / "m" / "shoes" / "3"), "step": 12}
    assert shoes_export([str(tmp_path), "--model-base", str(tmp_path / "m"), "--name", "old", "--version", "2"]) == 0
    assert calls == [("shoes", None), ("old", 2)]
    assert "shoes-export: " + WARNING.format(old="--name", new="--model") in capsys.readouterr().err


def test_export_exit_codes(tmp_path, monkeypatch, capsys):
    import shoes_generator.publish
    from serving.export_cli import main as shoes_export

    base = ["--model-base", str(tmp_path / "m")]
    for argv in ([str(tmp_path), *base], [str(tmp_path), *base, "--model", "m", "--version", "0"]):
        with pytest.raises(SystemExit) as exit_info:  # No model name; version 0.
            shoes_export(argv)
        assert exit_info.value.code == 2
    assert shoes_export([str(tmp_path / "nowhere"), *base, "--model", "m"]) == 2  # Not a run directory.
    assert "no config.json" in capsys.readouterr().err
    (tmp_path / "config.json").write_text("{}")
    assert shoes_export([str(tmp_path), *base, "--model", "../escape"]) == 2
    assert "Received: '../escape'" in capsys.readouterr().err

    def exists(*args):
        raise FileExistsError("Export destination already exists: 'm/m/1'")

    monkeypatch.setattr(shoes_generator.publish, "export_run", exists)
    assert shoes_export([str(tmp_path), *base, "--model", "m", "--version", "1"]) == 1  # Found while exporting.
    assert "already exists" in capsys.readouterr().err


# shoes-serve


def test_serve_binds_server_host_port_and_the_old_host_and_port_still_work(capsys):
    from serving.server.cli import bind_address, build_parser

    assert bind_address(build_parser().parse_args([])) == ("127.0.0.1", 8500)
    assert bind_address(build_parser().parse_args(["--server", "0.0.0.0:0"])) == ("0.0.0.0", 0)
    assert capsys.readouterr().err == ""
    assert bind_address(build_parser().parse_args(["--host", "0.0.0.0", "--port", "9"])) == ("0.0.0.0", 9)
    assert bind_address(build_parser().parse_args(["--port", "9"])) == ("127.0.0.1", 9)
    assert capsys.readouterr().err.splitlines()[:2] == [
        "shoes-serve: " + WARNING.format(old="--host", new="--server HOST:PORT"),
        "shoes-serve: " + WARNING.format(old="--port", new="--server HOST:PORT"),
    ]
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--server", "8500"])
    assert exit_info.value.code == 2


def test_serve_exit_codes(tmp_path, monkeypatch, capsys):
    import serving.server.cli as serve_cli

    assert serve_cli.main(["--model-base", str(tmp_path / "nowhere")]) == 2
    assert "--model-base is not a folder" in capsys.readouterr().err
    assert serve_cli.main(["--model-base", str(tmp_path), "--model-config", str(tmp_path / "models.config")]) == 2
    (tmp_path / "models.config").write_text("model_config_list { config { name: ")
    assert serve_cli.main(["--model-config", str(tmp_path / "models.config")]) == 1  # Found while reading it.

    class PortInUse:
        def start(self):
            raise OSError("Failed to bind to address 127.0.0.1:8500")

    monkeypatch.setattr(serve_cli, "server_from_args", lambda args: PortInUse())
    assert serve_cli.main(["--model-base", str(tmp_path)]) == 1
    assert "shoes-serve: error: Failed to bind" in capsys.readouterr().err


# shoes-eval


def test_eval_count_model_and_out_with_the_old_spellings(capsys):
    from training.evaluate import build_parser

    args = build_parser().parse_args(["--server", "h:1", "--model", "gen", "-n", "50", "-o", "r.json"])
    assert (args.server, args.name, args.samples, args.out) == ("h:1", "gen", 50, "r.json")
    assert capsys.readouterr().err == ""
    args = build_parser().parse_args(["--server", "h:1", "--name", "gen", "--samples", "60"])
    assert (args.name, args.samples) == ("gen", 60)
    assert capsys.readouterr().err.splitlines() == [
        "shoes-eval: " + WARNING.format(old="--name", new="--model"),
        "shoes-eval: " + WARNING.format(old="--samples", new="-n/--count"),
    ]


def test_eval_exit_codes(tmp_path, monkeypatch, capsys):
    import training.evaluate as shoes_eval

    assert shoes_eval.main([str(tmp_path), "-n", "8"]) == 2  # Not a model: the command line is wrong.
    assert shoes_eval.main([str(tmp_path), "-n", "1"]) == 2

    def weights_fail(*args):
        raise RuntimeError("InceptionV3 weights could not be loaded")

    monkeypatch.setattr(shoes_eval, "resolve", lambda model: (Path(model), None))
    monkeypatch.setattr(shoes_eval, "measure", weights_fail)
    capsys.readouterr()
    assert shoes_eval.main([str(tmp_path), "-n", "8"]) == 1  # Found while measuring.
    assert "shoes-eval: error: InceptionV3 weights could not be loaded" in capsys.readouterr().err


def _with_saved_model(run: Path) -> Path:
    (run / "saved_model").mkdir(parents=True)
    (run / "saved_model" / "saved_model.pb").write_bytes(b"")
    return run


def test_eval_a_usage_error_exits_2_and_a_value_error_found_while_measuring_exits_1(tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    import training.evaluate as shoes_eval

    pix2pix = _with_saved_model(_run_dir(tmp_path / "pix2pix", "pix2pix_fmnist_edges"))
    assert shoes_eval.main([str(pix2pix), "--metrics", "fid"]) == 2  # An option that does not apply to the run.
    assert capsys.readouterr().err == f"shoes-eval: error: --metrics measure noise generators; {pix2pix} is a pix2pix run.\n"
    assert shoes_eval.main(["--metrics", "fid,nope", "--server", "h:1"]) == 2  # An unknown metric name.
    assert shoes_eval.main([str(tmp_path / "runs" / "0001-misspelt"), "-n", "8"]) == 2  # MODEL spelled wrong.
    capsys.readouterr()

    corrupt = _with_saved_model(tmp_path / "corrupt")
    (corrupt / "config.json").write_text("{not json")
    assert shoes_eval.main([str(corrupt), "-n", "8"]) == 1  # The run is broken, the command line is right.
    error = capsys.readouterr().err
    assert error.startswith(f"shoes-eval: error: the run's config '{corrupt / 'config.json'}' cannot be read: Expecting property name")
    assert error.count("\n") == 1 and "Traceback" not in error
    for failure in (ValueError("the model's output has 4 channels, expected 3"), tf.errors.InvalidArgumentError(None, None, "a model that fails")):
        monkeypatch.setattr(shoes_eval, "measure", lambda *args, failure=failure: (_ for _ in ()).throw(failure))
        assert shoes_eval.main([str(pix2pix), "-n", "8"]) == 1
        assert capsys.readouterr().err == f"shoes-eval: error: {failure}\n"


# shoes-explore (and the blend strip that moved into it)


def _run_dir(path: Path, preset: str) -> Path:
    from shoes_generator.configs import get_preset

    path.mkdir(parents=True)
    (path / "config.json").write_text(get_preset(preset).to_json())
    return path


def test_explore_model_count_out_and_the_old_spellings(capsys):
    from shoes_generator.explore_cli import build_parser

    args = build_parser().parse_args(["direction", "--server", "h:1", "--model", "gen", "--attribute", "height", "-n", "20", "-o", "x"])
    assert (args.name, args.samples, args.out, args.label) == ("gen", 20, "x", [])
    assert capsys.readouterr().err == ""
    args = build_parser().parse_args(["direction", "--server", "h:1", "--name", "gen", "--attribute", "height", "--samples", "30",
                                      "--label", "color=red", "--out", "x"])
    assert (args.name, args.samples, args.label) == ("gen", 30, [("color", "red")])
    assert capsys.readouterr().err.splitlines() == [
        "shoes-explore direction: " + WARNING.format(old="--name", new="--model"),
        "shoes-explore direction: " + WARNING.format(old="--samples", new="-n/--count"),
    ]


def test_explore_exit_codes(tmp_path, monkeypatch, capsys):
    import shoes_generator.latent
    from serving.client import ServingError
    from shoes_generator.explore_cli import main as shoes_explore

    assert shoes_explore(["interpolate", "-o", str(tmp_path)]) == 2  # Neither MODEL nor --server.
    assert shoes_explore(["interpolate", str(tmp_path), "-o", str(tmp_path)]) == 2  # MODEL is not a model.

    def unavailable(*args):
        raise ServingError("UNAVAILABLE", "failed to connect to all addresses")

    monkeypatch.setattr(shoes_generator.latent, "open_model", unavailable)
    capsys.readouterr()
    assert shoes_explore(["interpolate", "--server", "localhost:1", "-o", str(tmp_path)]) == 1  # Found while running.
    assert capsys.readouterr().err == "shoes-explore: error: UNAVAILABLE: failed to connect to all addresses\n"


def test_explore_blend_replaces_python_m_blend(tmp_path, monkeypatch, capsys):
    import shoes_generator.blend
    from shoes_generator.explore_cli import main as shoes_explore

    drawn = []
    monkeypatch.setattr(shoes_generator.blend, "write_blend_strip", lambda run, config, out, count, alphas: drawn.append((count, alphas)) or count)
    cyclegan = _run_dir(tmp_path / "cyclegan", "cyclegan_sneaker2boot")
    assert shoes_explore(["blend", str(cyclegan), "-o", str(tmp_path / "s.png"), "-n", "2", "--alphas", "0,0.5,1"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "command": "blend", "run": str(cyclegan), "rows": 2, "alphas": [0.0, 0.5, 1.0], "strip": str(tmp_path / "s.png")}
    assert shoes_generator.blend.main([str(cyclegan), "--out", str(tmp_path / "s.png"), "--count", "3"]) == 0  # The old way.
    assert drawn == [(2, [0.0, 0.5, 1.0]), (3, [0, 0.25, 0.5, 0.75, 1])]
    assert WARNING.format(old="python -m shoes_generator.blend", new="shoes-explore blend") in capsys.readouterr().err
    gan = _run_dir(tmp_path / "gan", "dcgan64_paper")
    assert shoes_explore(["blend", str(gan), "-o", str(tmp_path / "s.png")]) == 2
    error = capsys.readouterr().err
    assert "a blend signature (model.family cyclegan)" in error and "Received: model.family='dcgan'" in error
    assert shoes_explore(["blend", str(tmp_path / "nowhere"), "-o", str(tmp_path / "s.png")]) == 2
    for alphas in ("2", "a,b"):
        with pytest.raises(SystemExit) as exit_info:
            shoes_explore(["blend", str(cyclegan), "-o", str(tmp_path / "s.png"), "--alphas", alphas])
        assert exit_info.value.code == 2


def test_explore_blend_asks_the_family_whether_it_blends_not_its_name(tmp_path, monkeypatch, capsys):
    import shoes_generator.blend
    from shoes_generator.explore_cli import main as shoes_explore
    from shoes_generator.families import get_family

    monkeypatch.setattr(shoes_generator.blend, "write_blend_strip", lambda run, config, out, count, alphas: count)
    monkeypatch.setattr(get_family("dcgan"), "blendable", True, raising=False)  # A family that declares a blend signature...
    monkeypatch.setattr(get_family("cyclegan"), "blendable", False, raising=False)  # ...and one that does not.
    gan, cyclegan = _run_dir(tmp_path / "gan", "dcgan64_paper"), _run_dir(tmp_path / "cyclegan", "cyclegan_sneaker2boot")
    assert shoes_explore(["blend", str(gan), "-o", str(tmp_path / "s.png"), "-n", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 2
    assert shoes_explore(["blend", str(cyclegan), "-o", str(tmp_path / "s.png")]) == 2
    assert "(model.family dcgan); " in capsys.readouterr().err  # The families that can blend, as registered now.


def test_the_scripts_use_the_new_spellings_and_the_json_run_line():
    import re

    for script in ("main.sh", "serve_demo.sh"):
        text = (ROOT / "scripts" / script).read_text()
        assert not re.search(r"ls -d .*\| *sort *\| *tail", text), script
        for old in ("--target", "--name", "--samples", "--output", "--host", "--port ", "python -m shoes_generator.blend"):
            assert old not in text, (script, old)
    assert 'json.load(sys.stdin)["run"]' in (ROOT / "scripts" / "main.sh").read_text()


@pytest.mark.parametrize("text", ["0", "-3", "2.5", "²", "٣", "x"])
def test_positive_int_refuses_what_int_cannot_take_or_is_not_positive(text):
    import argparse

    from shoes_generator.cli_common import positive_int

    with pytest.raises(argparse.ArgumentTypeError, match="expected a positive integer"):
        positive_int(text)
    assert positive_int("12") == 12
