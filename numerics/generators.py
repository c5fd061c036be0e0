r"""Seeded generators for array namespaces that have no NumPy-style ``Generator``.

Kernels draw through a small protocol, the part of :class:`numpy.random.Generator` they use:

- ``standard_normal(size=None, dtype="float64")``, ``random(size=None, dtype="float64")``;
- ``integers(low, high, size=None)``, ``binomial(n, p, size=None)``, ``standard_gamma(shape, size=None)``.

NumPy and CuPy generators provide it natively. :class:`TorchGenerator` provides it for PyTorch
tensors (on their device, from one seeded ``torch.Generator``); :class:`HostGenerator` draws with a
NumPy generator and hands the result to any array namespace (``array_api_strict`` in the parity
tests: the draws are NumPy's, every operation after them is the namespace's).

PyTorch has no seeded gamma sampler (``torch._standard_gamma`` takes no generator), so
:func:`marsaglia_tsang` draws Gamma variates from the generator's normals and uniforms by Marsaglia
and Tsang's squeeze-free rejection method (ACM TOMS 26(3), 2000, doi:10.1145/358407.358414); shapes
below 1 use the boost :math:`G_a = G_{a+1} U^{1/a}`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HostGenerator", "TorchGenerator", "marsaglia_tsang"]


def _shape(size: Any) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, int):
        return (size,)
    return tuple(int(s) for s in size)


def _dtype_name(dtype: Any) -> Any:
    """``"float32"`` / ``"float64"`` from a string, a NumPy dtype or a namespace's dtype object."""
    name = str(dtype).rsplit(".", 1)[-1]
    if name not in ("float32", "float64"):
        raise TypeError(f"dtype={dtype!r} must be float32 or float64")
    return name


class HostGenerator:
    """NumPy's generator, its draws converted to the arrays of ``xp`` (any namespace with ``asarray``)."""

    def __init__(self, xp: Any, seed: int) -> None:
        import numpy as np

        self.xp = xp
        self._np = np
        self._g = np.random.default_rng(np.random.SeedSequence(seed))

    def _host(self, value: Any) -> Any:
        """A parameter that may be an ``xp`` array, as NumPy (an explicit transfer)."""
        if isinstance(value, (int, float)):
            return value
        return self._np.asarray(value)

    def _out(self, value: Any) -> Any:
        return self.xp.asarray(value) if isinstance(value, self._np.ndarray) else value

    def standard_normal(self, size: Any = None, dtype: Any = "float64") -> Any:
        return self._out(self._g.standard_normal(size, dtype=_dtype_name(dtype)))

    def random(self, size: Any = None, dtype: Any = "float64") -> Any:
        return self._out(self._g.random(size, dtype=_dtype_name(dtype)))

    def integers(self, low: Any, high: Any = None, size: Any = None) -> Any:
        return self._out(self._g.integers(low, high, size))

    def binomial(self, n: Any, p: Any, size: Any = None) -> Any:
        return self._out(self._g.binomial(self._host(n), self._host(p), size))

    def standard_gamma(self, shape: Any, size: Any = None) -> Any:
        return self._out(self._g.standard_gamma(self._host(shape), size))


class TorchGenerator:
    """The generator protocol on PyTorch tensors, from one seeded ``torch.Generator`` on ``device``."""

    def __init__(self, torch: Any, seed: int, device: str = "cpu") -> None:
        self.torch = torch
        self.device = torch.device(device)
        self._g = torch.Generator(device=self.device)
        self._g.manual_seed(int(seed))

    def _dtype(self, dtype: Any) -> Any:
        return getattr(self.torch, _dtype_name(dtype))

    def _tensor(self, value: Any, dtype: Any = None) -> Any:
        t = self.torch
        if isinstance(value, t.Tensor):
            return value.to(device=self.device, dtype=dtype or value.dtype)
        return t.as_tensor(value, dtype=dtype or t.float64, device=self.device)

    def standard_normal(self, size: Any = None, dtype: Any = "float64") -> Any:
        return self.torch.randn(_shape(size), generator=self._g, dtype=self._dtype(dtype), device=self.device)

    def random(self, size: Any = None, dtype: Any = "float64") -> Any:
        return self.torch.rand(_shape(size), generator=self._g, dtype=self._dtype(dtype), device=self.device)

    def integers(self, low: int, high: int | None = None, size: Any = None) -> Any:
        if high is None:
            low, high = 0, low
        return self.torch.randint(int(low), int(high), _shape(size), generator=self._g, device=self.device)

    def binomial(self, n: Any, p: Any, size: Any = None) -> Any:
        t = self.torch
        count, prob = self._tensor(n, t.float64), self._tensor(p, t.float64)
        shape = _shape(size) if size is not None else t.broadcast_shapes(count.shape, prob.shape)
        out = t.binomial(count.expand(shape).contiguous(), prob.expand(shape).contiguous(), generator=self._g)
        return out.to(t.int64)

    def standard_gamma(self, shape: Any, size: Any = None) -> Any:
        a = self._tensor(shape)
        if size is not None:
            a = a.expand(_shape(size))
        return marsaglia_tsang(self, a)


def marsaglia_tsang(rng: Any, shape: Any) -> Any:
    """Gamma(``shape``, 1) variates (a float64 tensor of shapes >= 0) from ``rng``'s normals and uniforms.

    Vectorised rejection: every pending entry proposes at once; about 2-5% are rejected per round, so the
    loop ends after a few rounds (one host check per round, not per entry). Shape 0 gives 0, as NumPy's does.
    """
    t = rng.torch
    a = shape.to(t.float64).reshape(-1)
    small = a < 1
    d = t.where(small, a + 1, a) - 1.0 / 3.0
    c = 1.0 / t.sqrt(9.0 * d)
    out = t.empty_like(a)
    pending = t.arange(a.numel(), device=a.device)
    while pending.numel():
        dp, cp = d[pending], c[pending]
        x = rng.standard_normal(pending.shape)
        v = (1 + cp * x) ** 3
        u = rng.random(pending.shape)
        ok = (v > 0) & (t.log(u) < 0.5 * x * x + dp - dp * v + dp * t.log(t.clamp(v, min=1e-300)))
        out[pending[ok]] = (dp * v)[ok]
        pending = pending[~ok]
    if bool(small.any()):
        boost = rng.random(a.shape) ** (1.0 / t.where(small, a, t.ones_like(a)))
        out = t.where(small, out * boost, out)
    out = t.where(a == 0, t.zeros_like(out), out)
    return out.reshape(shape.shape)

