"""eigen_autodiff.torch against PyTorch's own autograd of the same math."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import eigen_autodiff as ead  # noqa: E402
from eigen_autodiff.torch import CustomLayer, custom_layer  # noqa: E402

from framework_activations import activation_table  # noqa: E402

TORCH_ACTIVATIONS = activation_table(torch, torch.sigmoid, torch.relu, torch.nn.functional.softplus)


def test_every_builtin_is_in_the_table() -> None:
    assert set(ead.ACTIVATIONS) <= set(TORCH_ACTIVATIONS)


DTYPES = {"float32": torch.float32, "float64": torch.float64}
TOLERANCES = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-11, "atol": 1e-12}}


def random_inputs(
    rng: np.random.Generator, x_shape: tuple[int, ...], outputs: int, dtype: Any, bias: bool
) -> tuple[Any, Any, Any]:
    def tensor(*shape: int) -> Any:
        return torch.tensor(0.5 * rng.standard_normal(shape), dtype=dtype, requires_grad=True)

    return tensor(*x_shape), tensor(x_shape[-1], outputs), tensor(outputs) if bias else None


def framework_layer(act: Callable[[Any], Any], x: Any, w: Any, b: Any) -> Any:
    z = x @ w
    return act(z if b is None else z + b)


@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_values_and_gradients_equal_torch_autograd(
    rng: np.random.Generator, name: str, dtype: str, bias: bool, x_shape: tuple[int, ...]
) -> None:
    ours, theirs = TORCH_ACTIVATIONS[name]
    x, w, b = random_inputs(rng, x_shape, 3, DTYPES[dtype], bias)
    inputs = [x, w] if b is None else [x, w, b]
    y = custom_layer(x, w, ours, b)
    expected = framework_layer(theirs, x, w, b)
    assert y.dtype == DTYPES[dtype]
    assert y.shape == expected.shape == (*x_shape[:-1], 3)
    torch.testing.assert_close(y, expected, **TOLERANCES[dtype])
    cotangent = torch.tensor(rng.standard_normal(tuple(y.shape)), dtype=DTYPES[dtype])
    grads = torch.autograd.grad(y, inputs, cotangent)
    expected_grads = torch.autograd.grad(expected, inputs, cotangent)
    for grad, expected_grad in zip(grads, expected_grads):
        assert grad.dtype == DTYPES[dtype]
        torch.testing.assert_close(grad, expected_grad, **TOLERANCES[dtype])


@pytest.mark.parametrize("name", ["sin", "tanh", "softplus", "traced_swish"])
def test_gradcheck_float64(rng: np.random.Generator, name: str) -> None:
    ours, _ = TORCH_ACTIVATIONS[name]
    x, w, b = random_inputs(rng, (2, 3, 4), 3, torch.float64, bias=True)
    assert torch.autograd.gradcheck(
        lambda x, w, b: custom_layer(x, w, ours, b), (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3
    )


def test_backward_computes_only_the_gradients_autograd_needs(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    vjp = ead.vjp

    def recording_vjp(*args: Any, wrt: tuple[str, ...], **kwargs: Any) -> Any:
        calls.append(tuple(wrt))
        return vjp(*args, wrt=wrt, **kwargs)

    monkeypatch.setattr(ead, "vjp", recording_vjp)
    x, w, b = random_inputs(rng, (4, 3), 2, torch.float64, bias=True)
    x.requires_grad_(False)
    custom_layer(x, w, "tanh", b).sum().backward()
    assert calls == [("w", "b")]
    assert x.grad is None
    assert w.grad is not None
    assert b.grad is not None


def test_mixed_dtypes_give_each_gradient_its_inputs_dtype(rng: np.random.Generator) -> None:
    x, _, _ = random_inputs(rng, (4, 3), 2, torch.float32, bias=False)
    _, w, _ = random_inputs(rng, (4, 3), 2, torch.float64, bias=False)
    y = custom_layer(x, w, "sin")
    y.sum().backward()
    assert y.dtype == torch.float64
    assert x.grad.dtype == torch.float32
    assert w.grad.dtype == torch.float64


def test_non_cpu_tensors_raise_with_the_fix() -> None:
    x = torch.ones(2, 3, device="meta")
    with pytest.raises(ValueError, match=r"on meta.*\.cpu\(\)"):
        custom_layer(x, torch.ones(3, 2), "sin")


def test_unsupported_dtype_raises_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"float16.*\.float\(\)"):
        custom_layer(torch.ones(2, 3, dtype=torch.float16), torch.ones(3, 2), "sin")


def test_an_unknown_activation_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="sinn"):
        CustomLayer(3, 2, activation="sinn")


def test_module_initialisation_equals_torch_linear_under_the_same_seed() -> None:
    torch.manual_seed(3)
    layer = CustomLayer(5, 4, activation="tanh", bias=True)
    torch.manual_seed(3)
    linear = torch.nn.Linear(5, 4)
    assert torch.equal(layer.kernel, linear.weight.T)
    assert torch.equal(layer.bias, linear.bias)
    assert repr(layer) == "CustomLayer(in_features=5, out_features=4, activation='tanh', bias=True)"
    assert [name for name, _ in layer.named_parameters()] == ["kernel", "bias"]


def test_module_float64_and_leading_dimensions() -> None:
    layer = CustomLayer(4, 3, activation="sin", dtype=torch.float64)
    y = layer(torch.ones(2, 5, 4, dtype=torch.float64))
    assert y.shape == (2, 5, 3)
    assert y.dtype == torch.float64
    assert layer.bias is None


# Warnings of torch's own internals (Dynamo reads .grad of the tensors it wraps; Inductor imports
# deprecated torch.jit code): under filterwarnings=error they would abort the compilation.
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("backend", ["eager", "inductor"])
def test_torch_compile_gives_the_eager_results(rng: np.random.Generator, backend: str) -> None:
    from torch._dynamo.testing import CompileCounterWithBackend

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 6, dtype=torch.float64)
            self.layer = CustomLayer(6, 3, activation="tanh", bias=True, dtype=torch.float64)

        def forward(self, x: Any) -> Any:
            return (self.layer(torch.relu(self.linear(x))) ** 2).mean()

    torch._dynamo.reset()
    model = Net()
    x = torch.tensor(rng.standard_normal((8, 4)), dtype=torch.float64)

    def loss_and_grads(module: Any) -> tuple[Any, list[Any]]:
        model.zero_grad()
        loss = module(x)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters()]

    expected_loss, expected_grads = loss_and_grads(model)
    counter = CompileCounterWithBackend(backend)
    loss, grads = loss_and_grads(torch.compile(model, backend=counter))
    # The code before the layer and after it are compiled; the layer is the graph break.
    assert counter.frame_count == 2
    torch.testing.assert_close(loss, expected_loss, rtol=1e-12, atol=0)
    for grad, expected in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-15)


def two_layer_network(layer: Callable[[int, int, str], Any]) -> Any:
    return torch.nn.Sequential(layer(8, 16, "tanh"), layer(16, 3, "identity"))


def torch_layer(inputs: int, outputs: int, activation: str) -> Any:
    act = {"tanh": torch.nn.Tanh(), "identity": torch.nn.Identity()}[activation]
    return torch.nn.Sequential(torch.nn.Linear(inputs, outputs, bias=False), act)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_training_gives_the_loss_curve_of_a_torch_network(dtype: str) -> None:
    rng = np.random.default_rng(1)  # one fixed problem: how far 20 steps get depends on it
    torch_dtype = DTYPES[dtype]
    theirs = two_layer_network(torch_layer).to(torch_dtype)
    ours = two_layer_network(lambda n, m, act: CustomLayer(n, m, act)).to(torch_dtype)
    with torch.no_grad():
        for our_layer, their_layer in zip(ours, theirs):
            our_layer.kernel.copy_(their_layer[0].weight.T)
    x = torch.tensor(rng.standard_normal((32, 8)), dtype=torch_dtype)
    target = torch.tensor(rng.standard_normal((32, 3)), dtype=torch_dtype)

    def train(model: Any) -> list[float]:
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        losses = []
        for _ in range(20):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    expected = train(theirs)
    losses = train(ours)
    assert expected[-1] < 0.8 * expected[0], "the reference network did not train"
    rtol = {"float32": 1e-4, "float64": 1e-10}[dtype]
    np.testing.assert_allclose(losses, expected, rtol=rtol)
