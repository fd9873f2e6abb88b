"""What a reader sees on opening a notebook file, before running anything.

A stored slider is a view of a kernel-side object that JupyterLab cannot restore from the file: it
shows the view's text fallback, `interactive(children=(FloatSlider(...`, instead. So notebooks are
stored without widget views (tools/nb.py run strips them): a slider cell shows nothing until it
runs, and the ordinary cell after it keeps the static plot.
"""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def slider_cells(nb):
    return [i for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code" and "Slider(" in "".join(c["source"])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_widget_view_or_its_text(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb["metadata"], f"{path.name}: saved widget state (run tools/nb.py strip-widgets)"
    for i, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(data.get("text/plain", "")) + "".join(output.get("text", ""))
            assert "application/vnd.jupyter.widget-view+json" not in data, f"{path.name} cell {i}: a stored widget view"
            assert "interactive(children" not in text, f"{path.name} cell {i}: a widget's repr stored as text"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if slider_cells(json.loads(p.read_text(encoding="utf-8")))],
                         ids=lambda p: p.name)
def test_every_slider_cell_is_ignored_by_nbval_and_followed_by_a_static_plot(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i in slider_cells(nb):
        source = "".join(nb["cells"][i]["source"])
        assert source.startswith("# NBVAL_IGNORE_OUTPUT"), f"{path.name} cell {i}: slider cell without NBVAL_IGNORE_OUTPUT"
        after = [c for c in nb["cells"][i:] if c["cell_type"] == "code"][:2]   # this cell or the next code cell
        assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
                   for c in after for o in c["outputs"]), \
            f"{path.name} cell {i}: this cell or the next code cell should draw the static plot at the default values"
