import importlib
import subprocess
import sys

import skmem


def test_every_public_name_resolves():
    import skmem.models

    for package in (skmem, skmem.models):
        for name in package.__all__:
            assert getattr(package, name) is getattr(importlib.import_module(package._EXPORTS[name]), name)
        assert set(package.__all__) <= set(dir(package))


def test_import_is_light_until_a_name_is_used():
    code = "import sys, skmem; assert 'torch' not in sys.modules; skmem.FrameSampler; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "ok"


def test_the_command_line_and_the_catalogue_load_without_torch():
    code = (
        "import sys, skmem.cli, skmem.pipelines; skmem.cli.build_parser(); "
        "assert 'torch' not in sys.modules, 'torch'; assert 'skorch' not in sys.modules, 'skorch'; "
        "skmem.pipelines.make_model('ridge', 3); assert 'torch' not in sys.modules; print('ok')"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "ok"


def test_unknown_name_raises_attribute_error():
    try:
        skmem.NoSuchThing
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
