"""Feature extractors: CNN frame features, pooling, precomputed descriptors."""
