"""Outcomes of a group of courses for the programme roll-up (reports spec §3.8).

Pure: each trainee-course contributes its first pre- and post-test % (the statistics attempt of
§3.1) and whether that post-test passed the course's mark; each evaluation form its "overall
satisfaction" answer. Groups (a course type in a year, a topic, one course) pool those rows, so
a group's mean post is over its takers, its gain and ⟨g⟩ over its matched pairs, exactly as a
single course's summary computes them (§3.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from server.domain.evaluation_stats import (
    Proportion,
    class_gain,
    describe_scores,
    wilson_interval,
)


@dataclass(frozen=True, slots=True)
class TraineeOutcome:
    """One person's first tests on one course (None: not taken)."""

    course_id: int
    person_id: int
    pre: float | None
    post: float | None
    passed: bool | None


@dataclass(frozen=True, slots=True)
class Participant:
    """One enrolment with the person's posting on the course's first day."""

    course_id: int
    person_id: int
    completed: bool
    sex: str | None
    level: str | None
    staff_cat: str | None
    unit: str | None


@dataclass
class OutcomeAccumulator:
    """Rows of one group, kept until :meth:`summary` (cheap: a few floats per trainee)."""

    posts: list[float] = field(default_factory=list)
    passes: int = 0
    graded: int = 0
    pairs_pre: list[float] = field(default_factory=list)
    pairs_post: list[float] = field(default_factory=list)
    overall: list[int] = field(default_factory=list)

    def add(self, outcome: TraineeOutcome) -> None:
        """Count one trainee-course."""
        if outcome.post is not None:
            self.posts.append(outcome.post)
            if outcome.passed is not None:
                self.graded += 1
                self.passes += bool(outcome.passed)
            if outcome.pre is not None:
                self.pairs_pre.append(outcome.pre)
                self.pairs_post.append(outcome.post)

    def add_rating(self, value: int) -> None:
        """Count one "overall satisfaction" answer (1–5)."""
        self.overall.append(value)

    def summary(self) -> GroupOutcome:
        """The group's figures."""
        post = describe_scores(self.posts)
        gains = np.asarray(self.pairs_post) - np.asarray(self.pairs_pre)
        gain = describe_scores(gains.tolist())
        g = (
            class_gain(float(np.mean(self.pairs_pre)), float(np.mean(self.pairs_post)))
            if self.pairs_pre
            else None
        )
        top2 = sum(1 for v in self.overall if v >= 4)
        return GroupOutcome(
            n_post=post.n,
            mean_post=post.mean,
            passed=wilson_interval(self.passes, self.graded),
            n_pairs=len(self.pairs_pre),
            mean_gain=gain.mean,
            gain_low=gain.ci_low,
            gain_high=gain.ci_high,
            class_gain=g,
            satisfaction_top2=wilson_interval(top2, len(self.overall)),
        )


@dataclass(frozen=True)
class GroupOutcome:
    """Mean post %, pass rate, mean gain with its t interval, ⟨g⟩ and the overall T2B."""

    n_post: int
    mean_post: float | None
    passed: Proportion
    n_pairs: int
    mean_gain: float | None
    gain_low: float | None
    gain_high: float | None
    class_gain: float | None
    satisfaction_top2: Proportion

    def as_row(self) -> dict:
        """Flat row values (percent shares as 0–100)."""

        def pct(value: float | None) -> float | None:
            return None if value is None else 100 * value

        return {
            "n_post": self.n_post,
            "mean_post": self.mean_post,
            "pass_n": self.passed.n,
            "pass_pct": pct(self.passed.share),
            "pass_low": pct(self.passed.ci_low),
            "pass_high": pct(self.passed.ci_high),
            "n_pairs": self.n_pairs,
            "mean_gain": self.mean_gain,
            "gain_low": self.gain_low,
            "gain_high": self.gain_high,
            "class_gain": self.class_gain,
            "sat_n": self.satisfaction_top2.n,
            "sat_top2": pct(self.satisfaction_top2.share),
            "sat_low": pct(self.satisfaction_top2.ci_low),
            "sat_high": pct(self.satisfaction_top2.ci_high),
        }


def likert_answer(value: object) -> int | None:
    """An "overall satisfaction" answer as 1–5 (None: blank, "not applicable", unreadable)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if 1 <= number <= 5 else None


def period_of(day, period: str) -> str:
    """The period label of a course's start date: ``2025`` or ``2025-Q3``."""
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def unique(values: Iterable[int]) -> int:
    """Distinct persons (the "người" of spec §2.2.5, beside person-times)."""
    return len(set(values))
