"""Mutation testing of the graders: mutants of the solutions made inside their solution
regions by course-specific and generic operators, graded as submissions; a section's
score is the share of its mutants that some grader test catches."""

from __future__ import annotations

from hfcourse.mutate.generate import GeneratedMutant, generate, regions, select
from hfcourse.mutate.operators import COURSE_OPERATORS, GENERIC_OPERATORS, OPERATORS

__all__ = ["COURSE_OPERATORS", "GENERIC_OPERATORS", "GeneratedMutant", "OPERATORS", "generate", "regions", "select"]
