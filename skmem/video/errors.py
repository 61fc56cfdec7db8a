"""Decoding errors and the damage a clip can have."""

from dataclasses import dataclass

__all__ = ["ClipDamage", "DamagedClipError", "VideoDecodeError"]


class VideoDecodeError(ValueError):
    """A clip could not be read; the message starts with the clip's path."""

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{path}: {cause}")

    def __reduce__(self):
        return type(self), (self.path, self.cause)


@dataclass(frozen=True)
class ClipDamage:
    """What is missing from a damaged clip.

    Attributes
    ----------
    path : str
    declared_seconds : float
        Duration the container declares (the span of its data when it
        declares none).
    decoded_seconds : float
        Seconds of the clip for which frames could be read.
    reason : str
        The signs found, e.g. ``"data ends at 2.00 s"``.
    """

    path: str
    declared_seconds: float
    decoded_seconds: float
    reason: str

    def describe(self):
        """What is damaged, without the path."""
        return (
            f"damaged clip, {self.decoded_seconds:.2f} s decodable of the "
            f"{self.declared_seconds:.2f} s its container declares ({self.reason})"
        )

    def __str__(self):
        return f"{self.path}: {self.describe()}"


class DamagedClipError(VideoDecodeError):
    """A clip is damaged and ``on_damaged="raise"``; ``damage`` is its :class:`ClipDamage`."""

    def __init__(self, damage):
        self.damage = damage
        super().__init__(damage.path, damage.describe())

    def __reduce__(self):
        return type(self), (self.damage,)

