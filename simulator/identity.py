"""How hard the vendors' records of one order or one person are to tie together (`serve --identity NAME`).

- `easy` (the default): every conversion record carries the order reference, or identifiers that tie it to a
  ClickMagick record of the same order (Integr8's click id seen by ClickMagick as s2; the email ClickMagick
  has too), so de-duplication can be exact.
- `hard`: on top of that, two things real data do:
  - records without a shared key: KEYLESS_SHARE of Integr8's conversions and of Webmarketer's events come
    without the order reference whatever else they carry (a thank-you page that did not pass it on), so some
    are tied to their order by nothing but their time, type, value and brand;
  - typos: TYPO_SHARE of Webmarketer's events carry the buyer's email with a mistyped domain, as typed into a
    form (DOMAIN_TYPOS), so the email no longer matches ClickMagick's.

The hard world draws from a random stream of its own (seeded by the world's seed): the easy world's draws, and
so its tables, are unchanged, and the same visitors convert in both.
"""

from __future__ import annotations

import numpy as np

IDENTITIES = ("easy", "hard")
KEYLESS_SHARE = 0.04
TYPO_SHARE = 0.03
DOMAIN = "@mail.example.com"
DOMAIN_TYPOS = ("@mial.example.com", "@mail.exmaple.com", "@mail.example.con", "@mail.examle.com")


def harden(conversions: dict[str, np.ndarray], seed: int) -> None:
    """Turn a world's conversions (generated easy) into the hard identity world's."""
    c = conversions
    m = len(c["time"])
    rng = np.random.default_rng([seed, 0x1D])
    c["i8_ref_missing"] = c["i8_ref_missing"] | (rng.random(m) < KEYLESS_SHARE)
    c["wm_ref_missing"] = c["wm_ref_missing"] | (rng.random(m) < KEYLESS_SHARE)
    # 0: typed right; k: typed with DOMAIN_TYPOS[k - 1]
    c["wm_email_typo"] = np.where(rng.random(m) < TYPO_SHARE, rng.integers(1, len(DOMAIN_TYPOS) + 1, m), 0)


def as_typed(email: str | None, typo: int) -> str | None:
    """The email as the buyer typed it into Webmarketer's form (`typo` from `harden`)."""
    if email is None or not typo:
        return email
    return email.replace(DOMAIN, DOMAIN_TYPOS[typo - 1])
