import importlib
import subprocess
import sys

import skmem


def test_every_public_name_resolves():
    for name in skmem.__all__:
        assert getattr(skmem, name) is getattr(importlib.import_module(skmem._EXPORTS[name]), name)
    assert set(skmem.__all__) <= set(dir(skmem))


def test_import_is_light_until_a_name_is_used():
    code = "import sys, skmem; assert 'torch' not in sys.modules; skmem.FrameSampler; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "ok"


def test_unknown_name_raises_attribute_error():
    try:
        skmem.NoSuchThing
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
