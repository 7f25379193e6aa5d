import random

import pytest

from cxpipe.demo import texts


def test_every_cause_has_phrasings_in_every_language() -> None:
    assert set(texts.COMPLAINTS) == set(texts.CAUSES)
    for cause in texts.CAUSES:
        for language in texts.LANGUAGES:
            assert len(texts.COMPLAINTS[cause][language]) >= 2, (cause, language)
    for pool in (texts.PRAISE, texts.NEUTRAL):
        assert set(pool) == set(texts.LANGUAGES)


def _one_slip(original: str, changed: str) -> bool:
    """True when ``changed`` is ``original`` with two neighbours swapped or one letter dropped/doubled."""
    if len(changed) == len(original):
        diff = [i for i, (a, b) in enumerate(zip(original, changed, strict=True)) if a != b]
        return diff == [] or (len(diff) == 2 and diff[1] == diff[0] + 1 and changed[diff[0]] == original[diff[1]])
    longer, shorter = (changed, original) if len(changed) > len(original) else (original, changed)
    return len(longer) == len(shorter) + 1 and any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def test_typo_is_a_single_small_edit() -> None:
    rng = random.Random(1)
    original = "delivery was late again"
    changed = [texts.typo(original, rng) for _ in range(200)]
    assert all(_one_slip(original, c) for c in changed)
    assert sum(c != original for c in changed) > 150
    assert texts.typo("ok", rng) == "ok"


@pytest.mark.parametrize("language", texts.LANGUAGES)
def test_complaints_keep_their_core_words_and_vary(language: str) -> None:
    rng = random.Random(7)
    written = [texts.complaint("late_delivery", language, rng) for _ in range(60)]
    assert len(set(written)) > 10
    cores = texts.COMPLAINTS["late_delivery"][language]
    # Most texts still contain a core phrasing verbatim (a typo touches at most one word).
    verbatim = sum(any(core.lower() in text.lower() for core in cores) for text in written)
    assert verbatim > len(written) / 2


def test_praise_and_neutral_texts_are_drawn_from_their_pools() -> None:
    rng = random.Random(3)
    assert texts.neutral("zh", rng) in texts.NEUTRAL["zh"]
    assert any(core in texts.praise("zh", rng) for core in texts.PRAISE["zh"])
