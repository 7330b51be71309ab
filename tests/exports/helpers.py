"""The final texts the export tests render (built in memory, no database)."""

from consultation.exports.sample import sample_final_text

__all__ = ["sample_final_text"]
