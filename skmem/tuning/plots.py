"""Figures of a study, drawn by ``optuna.visualization.matplotlib``."""

import warnings

from optuna.exceptions import ExperimentalWarning

__all__ = ["plot_history", "plot_importances"]


def _draw(name, study, path):
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        ax = getattr(optuna_plots, name)(study)
    if path is not None:
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(ax.figure)
    return ax


def plot_history(study, path=None):
    """Optimisation history: the score of every trial and the best so far.

    Parameters
    ----------
    study : optuna.Study
    path : str or path-like, optional
        Save the figure there (any format matplotlib writes) and close it.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _draw("plot_optimization_history", study, path)


def plot_importances(study, path=None):
    """Hyper-parameter importances of the completed trials (fANOVA).

    Needs at least two completed trials. Parameters and return as
    :func:`plot_history`.
    """
    return _draw("plot_param_importances", study, path)
