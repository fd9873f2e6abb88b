"""nblib/ must be exactly what the notebooks export (tools/export.py)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("export", ROOT / "tools" / "export.py")
export = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export)


def test_nblib_is_in_sync_with_the_notebooks():
    changed = export.differences(export.build())
    assert not changed, (f"nblib/ differs from what the notebooks export: "
                         f"{[str(p.relative_to(ROOT)) for p in changed]}; run `python tools/export.py`")


def test_check_mode_exits_zero_when_in_sync():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "export.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_exported_cells_and_module_rendering(tmp_path):
    nb = tmp_path / "03_demo.ipynb"
    cells = [
        {"cell_type": "markdown", "source": ["#| export nope\n", "markdown is never exported"], "metadata": {}},
        {"cell_type": "code", "source": ["#| export demo\n", "import numpy as np\n", "\n", "def f(x):\n",
                                         "    import math\n", "    return np.sqrt(x)\n"], "metadata": {}},
        {"cell_type": "code", "source": ["x = 1  # not exported\n"], "metadata": {}},
        {"cell_type": "code", "source": ["#| export demo\n", "import numpy as np\n", "from nblib.layers import Layer\n",
                                         "LIMIT = 3\n", "_private = 4\n", "class G(Layer):\n", "    pass\n"],
         "metadata": {}},
    ]
    nb.write_text(json.dumps({"cells": cells}))
    chunks = list(export.exported_cells(nb))
    assert [m for m, _ in chunks] == ["demo", "demo"]
    text = export.render_module("demo", [(nb.name, s) for _, s in chunks])
    assert text.startswith(export.GENERATED)
    assert "# Sources: notebooks/03_demo.ipynb" in text
    assert text.count("import numpy as np") == 1            # hoisted once
    assert text.index("from nblib.layers import Layer") < text.index("def f")
    assert "    import math" in text                         # imports inside functions stay put
    assert "__all__ = ['f', 'LIMIT', 'G']" in text
    assert "x = 1" not in text and "markdown" not in text
    namespace = {}
    exec(compile(text, "demo.py", "exec"), namespace)
    assert namespace["f"](4.0) == 2.0


def test_generated_modules_and_init_are_marked():
    for path in (ROOT / "nblib").glob("*.py"):
        text = path.read_text()
        head = "\n".join(text.splitlines()[:12])
        assert text.startswith(export.GENERATED) or "hand-written" in head.lower(), (
            f"{path.name} must say whether it is generated or hand-written")
