"""Pydantic models of every metadata record the store keeps.

Records are frozen and forbid unknown fields, so a typo in a field name or a record written by
a different schema fails loudly instead of being silently half-read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    """Base of all metadata records: immutable, strict about its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SgnsSettings(Record):
    """Every setting of a skip-gram negative-sampling run.

    ``epochs=None`` lets the trainer choose from the data's size
    (:func:`embedstore.methods.sgns.auto_epochs`); ``dim=None`` means 100, or the parent's dimension
    when warm-starting. The record of a version holds the numbers it used.
    """

    method: Literal["sgns"] = "sgns"
    dim: int | None = Field(None, ge=1, le=4096)
    epochs: int | None = Field(None, ge=1)
    negative: int = Field(5, ge=0, le=100)
    lr: float = Field(0.05, gt=0, le=10)
    min_lr_fraction: float = Field(0.001, gt=0, le=1)
    batch_size: int = Field(4096, ge=1)
    ns_exponent: float = Field(0.75, ge=0, le=2)
    seed: int = Field(0, ge=0)


class SvdSettings(Record):
    """Every setting of a count-based run: PPMI, then a randomised truncated SVD.

    See :mod:`embedstore.methods.svd` for what each one does.
    """

    method: Literal["svd"] = "svd"
    dim: int | None = Field(None, ge=1, le=4096)
    context_smoothing: float = Field(0.75, gt=0, le=1)
    shift: float = Field(1.0, ge=1)
    eigen_weight: float = Field(0.25, ge=0, le=1)
    add_context: bool = True
    power_iterations: int = Field(3, ge=0, le=50)
    oversample: int = Field(20, ge=0, le=1000)
    remove_components: int = Field(0, ge=0, le=100)
    seed: int = Field(0, ge=0)


class PropagateSettings(Record):
    """Every setting of a propagation run: random vectors smoothed over the pair graph.

    See :mod:`embedstore.methods.propagate` for what each one does.
    """

    method: Literal["propagate"] = "propagate"
    dim: int | None = Field(None, ge=1, le=4096)
    steps: int = Field(16, ge=1, le=200)
    average_from: int = Field(8, ge=1, le=200)
    self_weight: float = Field(0.5, ge=0, le=100)
    degree_exponent: float = Field(0.75, ge=0, le=2)
    negative_weight: float = Field(1.0, ge=0, le=100)
    seed: int = Field(0, ge=0)


class SvdSgnsSettings(Record):
    """Every setting of a two-stage run from text: PPMI + truncated SVD, then word2vec's
    skip-gram over the corpus started from the SVD's vectors.

    See :mod:`embedstore.methods.svd_sgns`. ``window`` and ``sample`` are the corpus
    reading's (one value for both stages); ``threads=None`` uses every core.
    """

    method: Literal["svd+sgns"] = "svd+sgns"
    dim: int | None = Field(None, ge=1, le=4096)
    context_smoothing: float = Field(0.75, gt=0, le=1)
    eigen_weight: float = Field(0.25, ge=0, le=1)
    power_iterations: int = Field(3, ge=0, le=50)
    oversample: int = Field(20, ge=0, le=1000)
    epochs: int = Field(2, ge=0, le=100)
    lr: float = Field(0.025, gt=0, le=10)
    min_lr: float = Field(0.0001, ge=0, le=10)
    negative: int = Field(5, ge=0, le=100)
    ns_exponent: float = Field(0.75, ge=0, le=2)
    start_norm: float = Field(2.5, gt=0, le=100)
    context_start: Literal["zero", "svd"] = "zero"
    window: int = Field(5, ge=1, le=100)
    sample: float = Field(1e-3, ge=0, le=1)
    threads: int | None = Field(None, ge=1, le=256)
    seed: int = Field(0, ge=0)


TrainSettings = Annotated[SgnsSettings | SvdSettings | PropagateSettings | SvdSgnsSettings,
                          Field(discriminator="method")]


class SubwordSettings(Record):
    """How a version's subword vectors were made (``subwords.npy``, ``buckets x dim``): the
    hashing rule and n-gram lengths of :mod:`embedstore.subwords.ngrams`, and the fit's
    damping (:mod:`embedstore.subwords.fitting`)."""

    buckets: int = Field(ge=1, le=1 << 24)
    min_n: int = Field(3, ge=1, le=20)
    max_n: int = Field(6, ge=1, le=20)
    hashing: Literal["fnv1a-32"] = "fnv1a-32"
    combine: Literal["mean"] = "mean"
    damping: float = Field(ge=0)


class TextOptions(Record):
    """How a text corpus was turned into co-occurrence pairs."""

    kind: Literal["text"] = "text"
    window: int = Field(5, ge=1, le=100)
    min_count: int = Field(5, ge=1)
    sample: float = Field(1e-3, ge=0, le=1)
    seed: int = Field(0, ge=0)


class PairFileOptions(Record):
    """How a pair file was read."""

    kind: Literal["pairs"] = "pairs"
    min_count: float = Field(1, ge=0)
    header: bool | None = None


class FileDigest(Record):
    """A file as it was when read or written: its path, size and SHA-256.

    A version's own files are recorded relative to the store directory; the input a version
    was made from (``source``) by its absolute path.
    """

    path: str
    bytes: int
    sha256: str


class VersionRecord(Record):
    """Everything known about one published version. It never changes once published.

    ``origin`` says how the vectors came to be: ``train`` (then ``reading``, ``settings``,
    ``epochs`` and ``epoch_losses`` describe the run), ``import`` (then ``import_format``
    names the file format, and ``source`` is absent for vectors handed over in memory) or
    ``extend`` (the ``parent`` version's vectors and new items folded in from the pairs in
    ``source`` by the method of ``settings``, the parent's).
    ``notes`` are what the run said about itself: why ``--method auto`` chose the method,
    explicit negative pairs a method could not use, a warm start aligned after training.
    ``subwords`` says how the subword vectors the version keeps (``files["subwords"]``) were
    made; None when it keeps none.
    """

    model: str
    version: int = Field(ge=1)
    name: str | None = None
    created: datetime
    origin: Literal["train", "import", "extend"] = "train"
    source: FileDigest | None = None
    reading: Annotated[PairFileOptions | TextOptions, Field(discriminator="kind")] | None = None
    settings: TrainSettings | None = None
    import_format: str | None = None
    parent: int | None = Field(None, ge=1)
    n_items: int = Field(ge=2)
    dim: int = Field(ge=1)
    epochs: int | None = Field(None, ge=1)
    epoch_losses: list[float] = Field(default_factory=list)
    duration_seconds: float = Field(ge=0)
    notes: list[str] = Field(default_factory=list)
    subwords: SubwordSettings | None = None
    files: dict[str, FileDigest]
    embedstore_version: str
