"""TF-IDF of caption words and word pairs: :class:`CaptionVectorizer`."""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from skmem._params import Interval, StrOptions
from skmem.features.text.captions import _captions_per_sample, _fitted_captions, _mean_rows

__all__ = ["CaptionVectorizer"]


class CaptionVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF features of captions, with slug tokenisation.

    The defaults follow the caption runs of the MediaEval 2018 memorability
    task, where bag-of-words/TF-IDF caption features with linear models or
    SVR were among the strongest single modalities (Cohendet et al., 2018,
    "MediaEval 2018: Predicting Media Memorability", task overview; Gupta &
    Motwani, 2018, "Linear Models for Video Memorability Prediction Using
    Visual and Semantic Features"): words and word pairs (``ngram_range=(1,
    2)``), sublinear term frequency and pruning of words seen in a single
    caption (``min_df=2``), which on the 8,000 dev-set captions removes
    thousands of one-off words that a linear model can only overfit. Slug
    separators (``-``, ``_``) split words, so ``tilt-down`` gives ``tilt``,
    ``down`` and ``tilt down``.

    Parameters
    ----------
    combine : {"join", "mean"}, default="join"
        Several captions per sample are joined into one document, or each is
        vectorised and the vectors are averaged.
    ngram_range : tuple (min_n, max_n), default=(1, 2)
        Word n-grams.
    min_df : float or int, default=2
        Drop words found in fewer documents (a count) or a smaller fraction of
        documents (a float). When this leaves no word at all (a handful of
        captions), every word is kept and a warning says so.
    max_df : float or int, default=1.0
    max_features : int, optional
    stop_words : {"english"}, list or None, default=None
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)``.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
    vocabulary_ : dict
        Word -> column.
    n_features_in_ : int
        Caption columns of the input (1 for a 1-D input).

    Examples
    --------
    >>> captions = ["couple-relaxing-on-picnic", "dog-running-on-beach", "dog-on-picnic"]
    >>> sorted(CaptionVectorizer().fit(captions).vocabulary_)
    ['dog', 'on', 'on picnic', 'picnic']
    """

    _parameter_constraints = {
        "combine": [StrOptions({"join", "mean"})],
        "ngram_range": [tuple],
        "min_df": [Interval(numbers.Real, 0, 1, closed="both"), Interval(numbers.Integral, 1, None, closed="left")],
        "max_df": [Interval(numbers.Real, 0, 1, closed="both"), Interval(numbers.Integral, 1, None, closed="left")],
        "max_features": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "stop_words": [StrOptions({"english"}), list, None],
        "sublinear_tf": ["boolean"],
    }

    def __init__(
        self,
        *,
        combine="join",
        ngram_range=(1, 2),
        min_df=2,
        max_df=1.0,
        max_features=None,
        stop_words=None,
        sublinear_tf=True,
    ):
        self.combine = combine
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf

    def _documents(self, captions):
        if self.combine == "join":
            return [" ".join(caps) for caps in captions], None
        counts = np.array([len(caps) for caps in captions])
        return [text for caps in captions for text in caps], counts

    def _vectorizer(self, min_df):
        return TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            stop_words=self.stop_words,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )

    def fit(self, X, y=None):
        """Learn the vocabulary and inverse document frequencies."""
        self._validate_params()
        captions, self.n_features_in_ = _captions_per_sample(X)
        documents, _ = self._documents(captions)
        self.vectorizer_ = self._vectorizer(self.min_df)
        try:
            self.vectorizer_.fit(documents)
        except ValueError as exc:
            pruned = self._vectorizer(1)
            try:
                pruned.fit(documents)
            except ValueError:
                raise ValueError(f"X: no usable caption words ({exc})") from exc
            warnings.warn(
                f"min_df={self.min_df} leaves no word in these {len(documents)} captions; "
                "every word is kept (min_df=1)",
                UserWarning,
                stacklevel=2,
            )
            self.vectorizer_ = pruned
        self.vocabulary_ = self.vectorizer_.vocabulary_
        return self

    def transform(self, X):
        """TF-IDF matrix, sparse CSR of shape (n_samples, n_words)."""
        check_is_fitted(self, "vectorizer_")
        captions = _fitted_captions(self, X)
        documents, counts = self._documents(captions)
        matrix = self.vectorizer_.transform(documents)
        if counts is not None:
            matrix = _mean_rows(matrix, counts).astype(np.float32)
        return sp.csr_matrix(matrix)

    def get_feature_names_out(self, input_features=None):
        """The vocabulary words, in column order."""
        check_is_fitted(self, "vectorizer_")
        return self.vectorizer_.get_feature_names_out()

    def __skmem_search_space__(self, X=None, y=None):
        """Optuna distributions of the parameters worth tuning (see :func:`skmem.tuning.search_space`).

        Tuples cannot be stored by Optuna: ``ngram_range`` is sampled as its
        text, which :func:`skmem.tuning.resolve_params` reads back.
        """
        from optuna.distributions import CategoricalDistribution, IntDistribution

        return {
            "ngram_range": CategoricalDistribution(("(1, 1)", "(1, 2)")),
            "min_df": IntDistribution(1, 5),
            "sublinear_tf": CategoricalDistribution((True, False)),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
