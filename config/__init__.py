"""Settings and the data the product ships (the entity/topic lexicon)."""
