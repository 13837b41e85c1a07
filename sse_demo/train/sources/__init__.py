"""Training-data sources, one module per family; each yields ``sse_demo.train.pair.Pair`` objects.

``debian`` (package descriptions), ``jmdict`` (JMdict + KANJIDIC2), ``chatterbot`` (dialogues), ``gettext_catalogues``
(Debian .mo catalogues), and the opt-in ``wordnet`` and ``biomed``. ``sse_demo.train.data`` gathers them.
"""
