"""Deterministic synthetic extracts in the canonical layouts, for sample_inputs/ and benchmarks."""

from pipelines.synthetic.drop import GenerationSummary, generate_drop, write_sample_inputs

__all__ = ["GenerationSummary", "generate_drop", "write_sample_inputs"]
