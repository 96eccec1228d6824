"""Tests of nn.optimizers: hand-computed steps, in-place updates, dtypes, configs, PyTorch parity."""
import json
import math

import numpy as np
import pytest

from nn import optimizers
from nn.optimizers import SGD, Adagrad, Adam, AdamW, CosineDecay, ExponentialDecay, RMSprop, StepDecay

# Three gradients applied to P0 in turn; expected values are worked out by hand below.
P0 = np.array([1.0, -2.0])
GRADS = [np.array([0.5, -1.0]), np.array([1.0, 2.0]), np.array([-0.5, 0.25])]


def run(optimizer, grads=GRADS, param=P0):
    param = param.copy()
    for grad in grads:
        optimizer.step([(param, grad.copy())])
    return param


# --- hand-computed updates ----------------------------------------------------


def test_sgd_plain():
    # p <- p - 0.1 g
    p1 = [1.0 - 0.1 * 0.5, -2.0 + 0.1 * 1.0]  # [0.95, -1.9]
    p2 = [p1[0] - 0.1 * 1.0, p1[1] - 0.1 * 2.0]  # [0.85, -2.1]
    p3 = [p2[0] + 0.1 * 0.5, p2[1] - 0.1 * 0.25]  # [0.9, -2.125]
    np.testing.assert_allclose(run(SGD(learning_rate=0.1)), p3, rtol=1e-12)
    np.testing.assert_allclose(p3, [0.9, -2.125], rtol=1e-12)


def test_sgd_momentum():
    # v <- 0.9 v + g, p <- p - 0.1 v
    v1 = [0.5, -1.0]
    v2 = [0.9 * 0.5 + 1.0, 0.9 * -1.0 + 2.0]  # [1.45, 1.1]
    v3 = [0.9 * 1.45 - 0.5, 0.9 * 1.1 + 0.25]  # [0.805, 1.24]
    expected = [1.0 - 0.1 * (v1[0] + v2[0] + v3[0]), -2.0 - 0.1 * (v1[1] + v2[1] + v3[1])]
    np.testing.assert_allclose(run(SGD(learning_rate=0.1, momentum=0.9)), expected, rtol=1e-12)
    np.testing.assert_allclose(expected, [0.7245, -2.134], rtol=1e-12)


def test_sgd_nesterov():
    # v <- 0.9 v + g, p <- p - 0.1 (g + 0.9 v)
    v1, v2, v3 = [0.5, -1.0], [1.45, 1.1], [0.805, 1.24]  # as in test_sgd_momentum
    steps = [
        [0.5 + 0.9 * v1[0], -1.0 + 0.9 * v1[1]],  # [0.95, -1.9]
        [1.0 + 0.9 * v2[0], 2.0 + 0.9 * v2[1]],  # [2.305, 2.99]
        [-0.5 + 0.9 * v3[0], 0.25 + 0.9 * v3[1]],  # [0.2245, 1.366]
    ]
    expected = [1.0 - 0.1 * sum(s[0] for s in steps), -2.0 - 0.1 * sum(s[1] for s in steps)]
    np.testing.assert_allclose(run(SGD(learning_rate=0.1, momentum=0.9, nesterov=True)), expected, rtol=1e-12)
    np.testing.assert_allclose(expected, [0.65205, -2.2456], rtol=1e-12)


def test_sgd_weight_decay():
    # g <- g + 0.5 p, p <- p - 0.1 g   (no momentum)
    p = [1.0, -2.0]
    for g in ([0.5, -1.0], [1.0, 2.0], [-0.5, 0.25]):
        p = [p[i] - 0.1 * (g[i] + 0.5 * p[i]) for i in range(2)]
    # step 1: [1 - 0.1(0.5 + 0.5), -2 - 0.1(-1 - 1)] = [0.9, -1.8]
    np.testing.assert_allclose(run(SGD(learning_rate=0.1, weight_decay=0.5)), p, rtol=1e-12)


def test_adagrad():
    # s <- s + g^2 (s starts at 0.1), p <- p - 0.1 g / (sqrt(s) + 0.01), one coordinate at a time
    p, s = [1.0, -2.0], [0.1, 0.1]
    for g in ([0.5, -1.0], [1.0, 2.0], [-0.5, 0.25]):
        s = [s[i] + g[i] ** 2 for i in range(2)]
        p = [p[i] - 0.1 * g[i] / (math.sqrt(s[i]) + 0.01) for i in range(2)]
    # step 1, first coordinate: s = 0.35, p = 1 - 0.05 / (0.5916 + 0.01) = 0.91689
    optimizer = Adagrad(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=0.01)
    np.testing.assert_allclose(run(optimizer), p, rtol=1e-12)


def test_rmsprop():
    # v <- 0.5 v + 0.5 g^2 (v starts at 0), p <- p - 0.1 g / (sqrt(v) + 0.01)
    p, v = [1.0, -2.0], [0.0, 0.0]
    for g in ([0.5, -1.0], [1.0, 2.0], [-0.5, 0.25]):
        v = [0.5 * v[i] + 0.5 * g[i] ** 2 for i in range(2)]
        p = [p[i] - 0.1 * g[i] / (math.sqrt(v[i]) + 0.01) for i in range(2)]
    # step 1, first coordinate: v = 0.125, p = 1 - 0.05 / (0.35355 + 0.01) = 0.86247
    np.testing.assert_allclose(run(RMSprop(learning_rate=0.1, rho=0.5, epsilon=0.01)), p, rtol=1e-12)


def test_rmsprop_centered_momentum():
    # one coordinate, g = 2, -1, 3; rho = 0.5, mu = 0.5, lr = 0.1, eps = 0.01
    v1, a1 = 0.5 * 4.0, 0.5 * 2.0  # 2.0, 1.0
    b1 = 2.0 / (math.sqrt(v1 - a1**2) + 0.01)  # 2 / 1.01
    v2, a2 = 0.5 * v1 + 0.5 * 1.0, 0.5 * a1 - 0.5  # 1.5, 0.0
    b2 = 0.5 * b1 - 1.0 / (math.sqrt(v2 - a2**2) + 0.01)
    v3, a3 = 0.5 * v2 + 0.5 * 9.0, 0.5 * a2 + 1.5  # 5.25, 1.5
    b3 = 0.5 * b2 + 3.0 / (math.sqrt(v3 - a3**2) + 0.01)
    expected = 1.0 - 0.1 * (b1 + b2 + b3)
    optimizer = RMSprop(learning_rate=0.1, rho=0.5, momentum=0.5, epsilon=0.01, centered=True)
    grads = [np.array([2.0]), np.array([-1.0]), np.array([3.0])]
    np.testing.assert_allclose(run(optimizer, grads, np.array([1.0])), [expected], rtol=1e-12)


def test_adam():
    # one coordinate, g = 2, -1, 3; b1 = 0.5, b2 = 0.75, lr = 0.1, eps = 0.1
    m1, v1 = 0.5 * 2.0, 0.25 * 4.0  # 1.0, 1.0
    m2, v2 = 0.5 * m1 + 0.5 * -1.0, 0.75 * v1 + 0.25 * 1.0  # 0.0, 1.0
    m3, v3 = 0.5 * m2 + 0.5 * 3.0, 0.75 * v2 + 0.25 * 9.0  # 1.5, 3.0
    p = 1.0
    for t, m, v in ((1, m1, v1), (2, m2, v2), (3, m3, v3)):
        p -= 0.1 * (m / (1 - 0.5**t)) / (math.sqrt(v / (1 - 0.75**t)) + 0.1)
    # step 1 moves by 0.1 * 2 / (sqrt(4) + 0.1) = 0.2 / 2.1
    optimizer = Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.75, epsilon=0.1)
    grads = [np.array([2.0]), np.array([-1.0]), np.array([3.0])]
    np.testing.assert_allclose(run(optimizer, grads, np.array([1.0])), [p], rtol=1e-12)


def test_adam_amsgrad():
    # g = 4, 0, 0: v shrinks after step 1, v_max keeps 4; b1 = 0.5, b2 = 0.5, lr = 0.1, eps = 0.1
    m1, m2, m3 = 0.5 * 4.0, 0.25 * 4.0, 0.125 * 4.0  # 2, 1, 0.5
    v_max = 0.5 * 16.0  # v = 8, 4, 2 -> max stays 8
    p = 0.0
    for t, m in ((1, m1), (2, m2), (3, m3)):
        p -= 0.1 * (m / (1 - 0.5**t)) / (math.sqrt(v_max / (1 - 0.5**t)) + 0.1)
    optimizer = Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.5, epsilon=0.1, amsgrad=True)
    grads = [np.array([4.0]), np.array([0.0]), np.array([0.0])]
    np.testing.assert_allclose(run(optimizer, grads, np.array([0.0])), [p], rtol=1e-12)


def test_adamw():
    # p <- p (1 - lr wd), then Adam with the numbers of test_adam
    m = [1.0, 0.0, 1.5]
    v = [1.0, 1.0, 3.0]
    p = 1.0
    for t in (1, 2, 3):
        p *= 1 - 0.1 * 0.5
        p -= 0.1 * (m[t - 1] / (1 - 0.5**t)) / (math.sqrt(v[t - 1] / (1 - 0.75**t)) + 0.1)
    optimizer = AdamW(learning_rate=0.1, weight_decay=0.5, beta_1=0.5, beta_2=0.75, epsilon=0.1)
    grads = [np.array([2.0]), np.array([-1.0]), np.array([3.0])]
    np.testing.assert_allclose(run(optimizer, grads, np.array([1.0])), [p], rtol=1e-12)


# --- behaviour every optimizer shares ------------------------------------------

ALL = [
    lambda: SGD(0.1),
    lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: Adagrad(0.1),
    lambda: RMSprop(0.1, momentum=0.5, centered=True),
    lambda: Adam(0.1, amsgrad=True),
    lambda: AdamW(0.1),
]


@pytest.mark.parametrize("make", ALL)
def test_updates_in_place(make):
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    held = dict(params)  # what a layer holds
    view = params["W"][0]
    optimizer = make()
    for _ in range(2):
        optimizer.step([(params["W"], np.full((2, 3), 0.5)), (params["b"], np.full(3, -0.5))])
    assert np.all(held["W"] < 1) and np.all(held["b"] > 0)  # the held arrays moved
    assert np.shares_memory(view, held["W"]) and np.array_equal(view, held["W"][0])
    assert optimizer.iterations == 2


@pytest.mark.parametrize("make", ALL)
def test_float32_stays_float32(make):
    rng = np.random.default_rng(0)
    param64 = rng.standard_normal((4, 5))
    param32 = param64.astype(np.float32)
    optimizer32, optimizer64 = make(), make()
    for _ in range(3):
        grad = rng.standard_normal((4, 5))
        optimizer32.step([(param32, grad.astype(np.float32))])
        optimizer64.step([(param64, grad)])
    assert param32.dtype == np.float32
    for array in optimizer32.state[id(param32)].values():
        assert array.dtype == np.float32 and array.shape == (4, 5)
    np.testing.assert_allclose(param32, param64, rtol=1e-5, atol=1e-5)


def test_state_is_per_parameter_and_lazy():
    first, second = np.zeros(2), np.zeros(3)
    optimizer = Adam()
    assert optimizer.state == {}
    optimizer.step([(first, np.ones(2))])
    assert set(optimizer.state) == {id(first)}
    optimizer.step([(first, np.ones(2)), (second, np.ones(3))])
    assert set(optimizer.state) == {id(first), id(second)}
    assert optimizer.state[id(second)]["m"].shape == (3,)


def test_apply_gradients_takes_grad_first():
    param_a, param_b = np.array([1.0]), np.array([1.0])
    SGD(0.5).apply_gradients([(np.array([2.0]), param_a)])
    SGD(0.5).step([(param_b, np.array([2.0]))])
    assert param_a[0] == param_b[0] == 0.0


def test_grad_shape_mismatch_raises_before_any_update():
    good, bad = np.ones(2), np.ones((2, 3))
    optimizer = SGD(0.1)
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        optimizer.step([(good, np.ones(2)), (bad, np.ones((3, 2)))])
    assert np.all(good == 1) and optimizer.iterations == 0


# --- learning-rate schedules ---------------------------------------------------


def test_step_decay():
    schedule = StepDecay(0.1, step_size=2, gamma=0.5)
    assert [schedule(t) for t in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-12)


def test_exponential_decay():
    schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(5) == pytest.approx(0.1 * math.sqrt(0.5), rel=1e-12)
    assert schedule(20) == pytest.approx(0.025, rel=1e-12)
    stairs = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stairs(t) for t in (5, 9, 10, 15, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-12)


def test_cosine_decay():
    schedule = CosineDecay(1.0, decay_steps=10, alpha=0.1)
    # halfway: c = (1 + cos(pi/2)) / 2 = 0.5, lr = 0.9 * 0.5 + 0.1
    assert [schedule(t) for t in (0, 5, 10, 20)] == pytest.approx([1.0, 0.55, 0.1, 0.1], rel=1e-12)
    assert CosineDecay(2.0, 4)(1) == pytest.approx(2.0 * (1 + math.cos(math.pi / 4)) / 2, rel=1e-12)


def test_optimizer_follows_schedule():
    # lr = 0.1, 0.05, 0.025 for steps 0, 1, 2; g = 1 each step
    optimizer = SGD(StepDecay(0.1, step_size=1, gamma=0.5))
    assert optimizer.current_learning_rate() == pytest.approx(0.1)
    param = np.zeros(1)
    optimizer.step([(param, np.ones(1))])
    assert optimizer.current_learning_rate() == pytest.approx(0.05)
    optimizer.step([(param, np.ones(1))])
    optimizer.step([(param, np.ones(1))])
    assert param[0] == pytest.approx(-(0.1 + 0.05 + 0.025), rel=1e-12)


def test_schedule_receives_zero_based_step():
    seen = []
    optimizer = SGD(lambda t: seen.append(t) or 0.1)
    for _ in range(3):
        optimizer.step([(np.zeros(1), np.ones(1))])
    assert seen == [0, 1, 2]


# --- names, configs, validation -------------------------------------------------


@pytest.mark.parametrize(
    "name, cls", [("sgd", SGD), ("Adagrad", Adagrad), ("RMSPROP", RMSprop), ("adam", Adam), ("AdamW", AdamW)]
)
def test_get_by_name_gives_fresh_defaults(name, cls):
    first, second = optimizers.get(name), optimizers.get(name)
    assert type(first) is cls and first is not second
    assert first.get_config() == cls().get_config()


def test_get_passes_instances_through():
    optimizer = Adam(0.01)
    assert optimizers.get(optimizer) is optimizer


def test_documented_defaults():
    assert SGD().get_config() == {
        "learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0
    }
    assert Adagrad().get_config() == {
        "learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7
    }
    assert RMSprop().get_config() == {
        "learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False
    }
    assert Adam().get_config() == {
        "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False
    }
    assert AdamW().get_config() == {
        "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False,
        "weight_decay": 0.004,
    }


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(0.5, momentum=0.9, nesterov=True, weight_decay=1e-4),
        Adagrad(0.2, initial_accumulator_value=0.0, epsilon=1e-3),
        RMSprop(ExponentialDecay(0.01, 100, 0.9, staircase=True), rho=0.8, centered=True),
        Adam(CosineDecay(0.01, 1000, alpha=0.1), beta_2=0.99, amsgrad=True),
        AdamW(StepDecay(0.003, 10, gamma=0.5), weight_decay=0.1),
    ],
)
def test_config_round_trip_through_json(optimizer):
    stored = json.loads(json.dumps(optimizers.serialize(optimizer)))
    rebuilt = optimizers.get(stored)
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()
    for t in (0, 7, 500):
        optimizer.iterations = rebuilt.iterations = t
        assert rebuilt.current_learning_rate() == optimizer.current_learning_rate()


def test_get_from_hand_written_dict():
    optimizer = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.9}})
    assert isinstance(optimizer, SGD) and optimizer.learning_rate == 0.5 and optimizer.momentum == 0.9


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError) as error:
        optimizers.get("adamm")
    message = str(error.value)
    assert "'adamm'" in message
    for name in ("'sgd'", "'adagrad'", "'rmsprop'", "'adam'", "'adamw'"):
        assert name in message


@pytest.mark.parametrize("identifier", [3, None, ["adam"]])
def test_get_rejects_other_types(identifier):
    with pytest.raises(TypeError, match="Received"):
        optimizers.get(identifier)


def test_lambda_schedule_cannot_be_saved():
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        SGD(lambda t: 0.1).get_config()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(learning_rate=0), "learning_rate=0"),
        (lambda: SGD(learning_rate=-0.1), "learning_rate=-0.1"),
        (lambda: Adam(learning_rate=float("nan")), "learning_rate=nan"),
        (lambda: SGD(momentum=1.0), "momentum=1.0"),
        (lambda: SGD(momentum=-0.5), "momentum=-0.5"),
        (lambda: SGD(nesterov=True), "momentum=0.0"),
        (lambda: SGD(weight_decay=-1), "weight_decay=-1"),
        (lambda: Adagrad(initial_accumulator_value=-0.1), "initial_accumulator_value=-0.1"),
        (lambda: Adagrad(epsilon=-1e-7), "epsilon=-1e-07"),
        (lambda: RMSprop(rho=1.0), "rho=1.0"),
        (lambda: RMSprop(momentum=2), "momentum=2"),
        (lambda: Adam(beta_1=1.0), "beta_1=1.0"),
        (lambda: Adam(beta_2=-0.1), "beta_2=-0.1"),
        (lambda: AdamW(weight_decay=-0.004), "weight_decay=-0.004"),
        (lambda: StepDecay(0.1, step_size=0), "step_size=0"),
        (lambda: StepDecay(0.1, step_size=2.5), "step_size=2.5"),
        (lambda: ExponentialDecay(0.1, decay_steps=0, decay_rate=0.9), "decay_steps=0"),
        (lambda: ExponentialDecay(-1.0, decay_steps=10, decay_rate=0.9), "initial_learning_rate=-1.0"),
        (lambda: CosineDecay(0.1, decay_steps=10, alpha=1.5), "alpha=1.5"),
    ],
)
def test_invalid_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("+", r"\+")):
        make()


def test_learning_rate_of_wrong_type_raises():
    with pytest.raises(TypeError, match="learning_rate='0.1'"):
        SGD(learning_rate="0.1")


# --- equality with torch.optim -----------------------------------------------------

# (nn class, nn kwargs, torch class name, torch kwargs); eps is large in some cases so
# where it is added (inside or outside the square root, before or after bias correction)
# changes the result by far more than the tolerance.
TORCH_CASES = {
    "sgd": (SGD, dict(learning_rate=0.1), "SGD", dict(lr=0.1)),
    "sgd_momentum": (SGD, dict(learning_rate=0.1, momentum=0.9), "SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": (
        SGD, dict(learning_rate=0.1, momentum=0.8, nesterov=True),
        "SGD", dict(lr=0.1, momentum=0.8, nesterov=True),
    ),
    "sgd_weight_decay": (SGD, dict(learning_rate=0.1, weight_decay=0.3), "SGD", dict(lr=0.1, weight_decay=0.3)),
    "sgd_all": (
        SGD, dict(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.3),
        "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.3),
    ),
    "adagrad": (
        Adagrad, dict(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-7),
        "Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-7),
    ),
    "adagrad_big_eps": (
        Adagrad, dict(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.3),
        "Adagrad", dict(lr=0.1, initial_accumulator_value=0.0, eps=0.3),
    ),
    "rmsprop": (RMSprop, dict(learning_rate=0.01, epsilon=0.1), "RMSprop", dict(lr=0.01, alpha=0.9, eps=0.1)),
    "rmsprop_defaults": (RMSprop, dict(), "RMSprop", dict(lr=0.001, alpha=0.9, eps=1e-7)),
    "rmsprop_centered_momentum": (
        RMSprop, dict(learning_rate=0.01, rho=0.8, momentum=0.7, epsilon=0.05, centered=True),
        "RMSprop", dict(lr=0.01, alpha=0.8, momentum=0.7, eps=0.05, centered=True),
    ),
    "adam": (
        Adam, dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=0.1),
        "Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=0.1),
    ),
    "adam_defaults": (Adam, dict(), "Adam", dict(lr=0.001, betas=(0.9, 0.999), eps=1e-7)),
    "adam_amsgrad": (
        Adam, dict(learning_rate=0.01, epsilon=0.01, amsgrad=True),
        "Adam", dict(lr=0.01, betas=(0.9, 0.999), eps=0.01, amsgrad=True),
    ),
    "adamw": (
        AdamW, dict(learning_rate=0.01, weight_decay=0.5, epsilon=0.1),
        "AdamW", dict(lr=0.01, weight_decay=0.5, betas=(0.9, 0.999), eps=0.1),
    ),
    "adamw_amsgrad": (
        AdamW, dict(learning_rate=0.01, weight_decay=0.1, beta_1=0.5, beta_2=0.7, epsilon=0.01, amsgrad=True),
        "AdamW", dict(lr=0.01, weight_decay=0.1, betas=(0.5, 0.7), eps=0.01, amsgrad=True),
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    nn_class, nn_kwargs, torch_name, torch_kwargs = TORCH_CASES[case]
    rng = np.random.default_rng(42)
    start = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    # gradient sizes rise and fall so amsgrad's running max differs from v
    grads = [[scale * rng.standard_normal(p.shape) for p in start] for scale in (1.0, 3.0, 0.1, 2.0, 0.05)]

    ours = [p.copy() for p in start]
    optimizer = nn_class(**nn_kwargs)
    theirs = [torch.tensor(p, requires_grad=True) for p in start]
    torch_optimizer = getattr(torch.optim, torch_name)(theirs, **torch_kwargs)
    for step_grads in grads:
        optimizer.step(zip(ours, step_grads))
        for tensor, grad in zip(theirs, step_grads):
            tensor.grad = torch.tensor(grad)
        torch_optimizer.step()
    for p0, p_ours, p_theirs in zip(start, ours, theirs):
        p_theirs = p_theirs.detach().numpy()
        np.testing.assert_allclose(p_ours, p_theirs, rtol=1e-10, atol=1e-12)
        # the displacement too, so a small error in a small update cannot hide in p
        np.testing.assert_allclose(p_ours - p0, p_theirs - p0, rtol=1e-8, atol=1e-14)
