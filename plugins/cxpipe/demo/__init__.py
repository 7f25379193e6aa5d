"""Demo landing data: deterministic, realistic exports of the four sources (``cxpipe demo``).

:mod:`.generator` writes the files (sales, CRM, surveys, social; streamed in chunks at any
scale factor); :mod:`.texts` holds the multilingual complaint, praise and neutral texts.
"""

from cxpipe.demo.generator import DemoSpec, generate

__all__ = ["DemoSpec", "generate"]
