"""Quality against Matryoshka dim, as the app's Search tab measures it, for the fp32 and 4-bit models side by side.

Uses the shared eval sets (``SSE_EVAL_DIR``, default ``../shared/eval``) when present, else the demo corpus's
translation pairs; the output names which.

    python bench/app_quality.py            # bundled model
    python bench/app_quality.py --model PATH_OR_HUB_ID
"""

from __future__ import annotations

import argparse

from sse_demo.app.inputs import Precision
from sse_demo.app.labelled import quality_view
from sse_demo.app.models import choose_models, requested_model
from sse_demo.app.service import DemoService


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint folder or hub id (default: the bundled model)")
    args = parser.parse_args()
    service = DemoService(choose_models(requested_model(args.model)))
    tables = {}
    for precision in Precision:
        summary, tables[precision], _ = quality_view(service, precision.value)
        print(summary)
    merged = tables[Precision.FP32].merge(tables[Precision.Q4], on=["set", "dim"], suffixes=(" fp32", " 4-bit"))
    print(merged.to_string(index=False))


if __name__ == "__main__":
    main()
