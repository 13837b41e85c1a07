"""The training command's teacher flags (``docs/teacher.md``): a distillation stage and teacher-mined negatives.

``add_teacher_arguments`` declares them on ``python -m sse_demo.train``'s parser; ``teacher_plan`` turns them into
the pair dataset (with mined negatives where asked) and the ``Distillation`` stage that ``trainer.train`` runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sse_demo.train.teacher import load_cache, read_pairs
from sse_demo.train.teacher_distill import TEACHER_TEMPERATURE, Distillation, DistillLoss, distillation_dataset
from sse_demo.train.teacher_mining import (
    DEFAULT_DEPTH,
    DEFAULT_MARGIN,
    MINED_SUFFIX,
    add_negatives,
    known_positives,
    mine_negatives,
)
from sse_demo.train.trainer import Stage

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict


def add_teacher_arguments(parser: argparse.ArgumentParser, parse_stage: Callable[[str], Stage]) -> None:
    """Declare the teacher flags; ``parse_stage`` reads ``BATCH:LR[:EPOCHS]`` as the command's ``--stage`` does."""
    group = parser.add_argument_group("teacher (issue 19; docs/teacher.md)")
    group.add_argument("--teacher-cache", type=Path, default=None, help="teacher cache folder (sse_demo.train.teacher)")
    group.add_argument(
        "--teacher-partial", action="store_true", help="use an unfinished cache: the shards written so far"
    )
    group.add_argument(
        "--distill-stage", type=parse_stage, default=None, help="add a distillation stage BATCH:LR[:EPOCHS]"
    )
    group.add_argument(
        "--distill-beside",
        type=int,
        nargs="?",
        const=1,
        default=None,
        metavar="REPEAT",
        help="distil inside every contrastive stage (the cached entries as extra datasets, REPEAT times over, "
        "default 1) instead of a stage of its own",
    )
    group.add_argument(
        "--distill-loss",
        type=DistillLoss,
        choices=list(DistillLoss),
        default=DistillLoss.SIMILARITY_KL,
        help="in-batch similarity KL (no projection) or MSE through a per-rung projection",
    )
    group.add_argument(
        "--distill-position",
        type=int,
        default=None,
        help="contrastive stages before the distillation stage (0, the default: first; 1: between; 2: last)",
    )
    group.add_argument(
        "--distill-temperature",
        type=float,
        default=TEACHER_TEMPERATURE,
        help="teacher softmax temperature of similarity-kl",
    )
    group.add_argument(
        "--distill-weights",
        type=float,
        nargs="+",
        default=None,
        help="the distillation loss's weight per Matryoshka dim, largest first (default: --matryoshka-weights)",
    )
    group.add_argument(
        "--mined-negatives", action="store_true", help="add a teacher-mined hard negative to the cached pairs"
    )
    group.add_argument(
        "--negative-margin",
        type=float,
        default=DEFAULT_MARGIN,
        help="a mined negative scores at least this far below the positive (teacher cosine)",
    )
    group.add_argument(
        "--negative-depth", type=int, default=DEFAULT_DEPTH, help="a mined negative is among the teacher's top N"
    )


def teacher_plan(
    parser: argparse.ArgumentParser, args: argparse.Namespace, dataset: Dataset | DatasetDict, stages: int
) -> tuple[Dataset | DatasetDict, Distillation | None]:
    """The pair dataset (with mined negatives if ``--mined-negatives``) and the distillation stage (or None) for a
    run of ``stages`` contrastive stages.

    Inconsistent flags stop the command through ``parser.error`` with what to change.
    """
    beside = args.distill_beside is not None
    distill = args.distill_stage is not None or beside
    if args.distill_weights is not None and not distill:
        parser.error("--distill-weights weigh the distillation's rungs: add --distill-stage or --distill-beside")
    if args.teacher_cache is None:
        if distill or args.mined_negatives:
            parser.error(
                "--distill-stage, --distill-beside and --mined-negatives read the teacher's vectors: "
                "pass --teacher-cache DIR"
            )
        return dataset, None
    if not (distill or args.mined_negatives):
        parser.error(
            "--teacher-cache is given but unused: add --distill-stage BATCH:LR or --distill-beside, "
            "and/or --mined-negatives"
        )
    if beside and args.distill_stage is not None:
        parser.error("distil in a stage of its own (--distill-stage) or beside the contrastive ones, not both")
    if args.distill_position is not None and args.distill_stage is None:
        parser.error("--distill-position places a --distill-stage: add one, or leave --distill-position out")
    position = args.distill_position or 0
    if not 0 <= position <= stages:
        parser.error(f"--distill-position must be 0 to {stages} (the number of contrastive stages)")
    if args.distill_temperature <= 0 or args.negative_margin < 0 or args.negative_depth < 1:
        parser.error("--distill-temperature must be above 0, --negative-margin at least 0, --negative-depth at least 1")
    if beside and args.distill_beside < 1:
        parser.error("--distill-beside REPEAT must be at least 1 (how many times the cached entries join a stage)")
    cache = load_cache(args.teacher_cache, partial=args.teacher_partial)
    total = "" if cache.complete else " (unfinished cache: the shards written so far)"
    print(f"teacher cache {args.teacher_cache}: {len(cache.entries)} entries{total}", flush=True)
    if args.mined_negatives:
        positives = known_positives(read_pairs(args.data / "pairs.jsonl"))
        mined = mine_negatives(cache, positives, margin=args.negative_margin, depth=args.negative_depth)
        dataset = add_negatives(dataset, mined)
        with_negative = {
            name.removesuffix(MINED_SUFFIX): len(rows) for name, rows in dataset.items() if name.endswith(MINED_SUFFIX)
        }
        print(f"mined negatives for {sum(with_negative.values())} training pairs: {with_negative}", flush=True)
    distillation = None
    if distill:
        distillation = Distillation(
            distillation_dataset(cache, args.sources, by_source=not args.mixed_batches),
            args.distill_stage,
            args.distill_loss,
            position,
            args.distill_temperature,
            args.distill_beside or 1,
            args.distill_weights,
        )
    return dataset, distillation
