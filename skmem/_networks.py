"""Deep models in a model file: their skorch networks stored as plain arrays.

A fitted skmem deep model keeps its skorch network as ``net_``; pickling it
would store the network as a pickle, which runs code when loaded. Before a
model file is written, :func:`without_networks` replaces each network by a
:class:`StoredNetwork` (the state of its modules as numpy arrays, its
history as JSON); after loading, :func:`with_networks` builds each network
again with the model's own settings and loads the arrays into it.
"""

import json
import sys

__all__ = ["StoredNetwork", "with_networks", "without_networks"]


class StoredNetwork:
    """The learned state of a skorch network, as arrays: what a model file holds in place of the network.

    Parameters
    ----------
    weights : dict
        ``{attribute: {name: ndarray}}``: the state of each module and
        criterion of the network (``module_``, ``criterion_``, ...).
    history : str
        The training history, as JSON.
    """

    def __init__(self, weights, history):
        self.weights = weights
        self.history = history

    @classmethod
    def of(cls, net):
        """The stored state of the fitted skorch network ``net``."""
        weights = {}
        for name in net._modules + net._criteria:
            state = getattr(net, f"{name}_").state_dict()
            weights[f"{name}_"] = {key: value.detach().cpu().numpy() for key, value in state.items()}
        return cls(weights, json.dumps(net.history.to_list(), default=str))

    def restore(self, owner):
        """The network of ``owner`` (a fitted skmem deep model), built by skmem and given the stored weights."""
        import torch
        from skorch.history import History

        net = owner._build_net(None, 1, 0)
        net.initialize()
        for attribute, state in self.weights.items():
            if attribute not in {f"{name}_" for name in net._modules + net._criteria}:
                raise ValueError(f"stored weights of {attribute!r}, which {type(owner).__name__}'s network lacks")
            getattr(net, attribute).load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
        net.history = History(json.loads(self.history))
        return net


def _is_net(value):
    skorch = sys.modules.get("skorch")  # no network exists unless skorch was imported
    return skorch is not None and isinstance(value, skorch.NeuralNet)


def _replace(value, is_net, replace, seen):
    """``value`` with each network ``net`` (``is_net(net)``, an attribute of ``owner``) replaced by ``replace(owner, net)``.

    Only skmem and scikit-learn objects are searched, with the lists, tuples
    and dicts they hold. Objects holding a network, and those above them,
    are shallow copies; ``value`` itself is left unchanged.
    """
    if id(value) in seen:
        return seen[id(value)]
    result = value
    if type(value) in (list, tuple):
        items = [_replace(item, is_net, replace, seen) for item in value]
        if any(a is not b for a, b in zip(items, value)):
            result = type(value)(items)
    elif type(value) is dict:
        items = {key: _replace(item, is_net, replace, seen) for key, item in value.items()}
        if any(items[key] is not value[key] for key in value):
            result = items
    elif hasattr(value, "__dict__") and not isinstance(value, type) and type(value).__module__.split(".")[0] in ("skmem", "sklearn"):
        attributes = {
            key: replace(value, item) if is_net(item) else _replace(item, is_net, replace, seen)
            for key, item in vars(value).items()
        }
        if any(attributes[key] is not item for key, item in vars(value).items()):
            result = object.__new__(type(value))
            result.__dict__.update(attributes)
    seen[id(value)] = result
    return result


def _owner_builds(owner):
    if not hasattr(owner, "_build_net"):
        raise ValueError(f"{type(owner).__name__} holds a skorch network that is not a skmem deep model's")


def without_networks(value):
    """A copy of ``value`` whose skmem deep models hold a :class:`StoredNetwork` for their network.

    Raises ``ValueError`` for a skorch network held by anything but a skmem deep model.
    """

    def store(owner, net):
        _owner_builds(owner)
        return StoredNetwork.of(net)

    return _replace(value, _is_net, store, {})


def with_networks(value):
    """The inverse of :func:`without_networks`: each :class:`StoredNetwork` becomes its network again.

    Raises ``ValueError`` when a stored network does not fit its model.
    """

    def restore(owner, stored):
        _owner_builds(owner)
        return stored.restore(owner)

    return _replace(value, lambda item: isinstance(item, StoredNetwork), restore, {})
