"""The compiled fused kernel (emviz.kernel) against numpy/scipy and scikit-learn."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

numba = pytest.importorskip("numba")

from emviz import kernel  # noqa: E402

pytestmark = pytest.mark.skipif(not kernel.wait(), reason=f"numba kernel unavailable: {kernel.failure()}")


def random_mixture(rng, k, d, offset=0.0, scale=1.0):
    means = offset + scale * rng.normal(size=(k, d)) * 3
    a = rng.normal(size=(k, d, d)) * 0.4 + np.eye(d)
    covariances = scale**2 * (a @ a.transpose(0, 2, 1) + 0.1 * np.eye(d))
    weights = rng.uniform(0.2, 1.0, size=k)
    weights /= weights.sum()
    return weights, means, covariances


def precisions_cholesky(covariances):
    """scikit-learn's precisions_cholesky_: upper triangular P with P P^T = inverse covariance."""
    d = covariances.shape[-1]
    out = []
    for cov in covariances:
        lower = np.linalg.cholesky(cov)
        out.append(np.linalg.solve(lower, np.eye(d)).T)  # inv(L)^T
    return np.array(out)


def sample(rng, n, weights, means, covariances):
    labels = rng.choice(len(weights), size=n, p=weights)
    X = np.empty((n, means.shape[1]))
    for c in range(len(weights)):
        idx = labels == c
        X[idx] = rng.multivariate_normal(means[c], covariances[c], size=idx.sum())
    return X


def reference(X, weights, means, covariances, centers):
    """The contract computed with scipy: ll_sum, nk, s1, s2, resp."""
    log_prob = np.stack(
        [np.log(w) + multivariate_normal(m, c).logpdf(X).reshape(-1) for w, m, c in zip(weights, means, covariances)],
        axis=1,
    )
    lse = logsumexp(log_prob, axis=1)
    resp = np.exp(log_prob - lse[:, None])
    dx = X[:, None, :] - centers[None, :, :]  # (n, k, d)
    nk = resp.sum(axis=0)
    s1 = np.einsum("ik,ikj->kj", resp, dx)
    s2 = np.einsum("ik,ikj,ikl->kjl", resp, dx, dx)
    return lse.sum(), nk, s1, s2, resp


def assert_close(actual, expected, rtol, scale):
    """Relative agreement, with an absolute floor of rtol * scale for entries near 0."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def check_against_reference(X, weights, means, covariances, centers, rtol=1e-11):
    P = precisions_cholesky(covariances)
    ll, nk, s1, s2 = kernel.statistics_pass(X, np.log(weights), means, P, centers)
    ll_ref, nk_ref, s1_ref, s2_ref, resp_ref = reference(X, weights, means, covariances, centers)
    n = X.shape[0]
    assert ll == pytest.approx(ll_ref, rel=rtol)
    assert_close(nk, nk_ref, rtol, n)
    spread = np.abs(X - centers.mean(axis=0)).max() + np.abs(centers - centers.mean(axis=0)).max()
    assert_close(s1, s1_ref, 1e-10, n * spread)
    assert_close(s2, s2_ref, 1e-10, n * spread**2)
    np.testing.assert_array_equal(s2, s2.transpose(0, 2, 1))
    ll2, resp = kernel.responsibilities_pass(X, np.log(weights), means, P)
    assert ll2 == ll  # the same per-task order of the same sums
    assert resp.shape == (n, len(weights))
    np.testing.assert_allclose(resp, resp_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-14)


SIZES = [1, 5, kernel.BLOCK - 1, kernel.BLOCK + 3, 2 * kernel.TASK + kernel.BLOCK + 7]


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("n", SIZES)
def test_statistics_and_responsibilities_equal_the_scipy_reference(d, k, n):
    rng = np.random.default_rng(100 * d + 10 * k + n % 97)
    weights, means, covariances = random_mixture(rng, k, d)
    X = sample(rng, n, weights, means, covariances)
    centers = means + rng.normal(size=means.shape) * 0.3  # about points other than the means
    check_against_reference(X, weights, means, covariances, centers)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_far_from_the_origin_keeps_its_digits(d):
    """Clusters at 1e6 with spread 1: statistics about each centre, log-densities from x - mu."""
    rng = np.random.default_rng(d)
    weights, means, covariances = random_mixture(rng, 3, d, offset=1e6)
    X = sample(rng, 3000, weights, means, covariances)
    centers = means + 0.01
    check_against_reference(X, weights, means, covariances, centers)
    # a second-moment statistic of spread-1 clusters about their centre: ~n, not ~n * 1e12
    _, nk, _, s2 = kernel.statistics_pass(X, np.log(weights), means, precisions_cholesky(covariances), centers)
    traces = np.trace(s2, axis1=1, axis2=2) / nk
    assert np.all(traces < 100)


def test_agrees_with_scikit_learn_log_gaussian_prob():
    from sklearn.mixture._gaussian_mixture import _estimate_log_gaussian_prob

    rng = np.random.default_rng(5)
    weights, means, covariances = random_mixture(rng, 4, 2)
    X = sample(rng, 5000, weights, means, covariances)
    P = precisions_cholesky(covariances)
    log_prob = _estimate_log_gaussian_prob(X, means, P, "full") + np.log(weights)
    ll, resp = kernel.responsibilities_pass(X, np.log(weights), means, P)
    assert ll == pytest.approx(logsumexp(log_prob, axis=1).sum(), rel=1e-11)
    np.testing.assert_allclose(resp, np.exp(log_prob - logsumexp(log_prob, axis=1)[:, None]), atol=1e-12)


def test_lower_triangular_factors_work_too():
    rng = np.random.default_rng(8)
    weights, means, covariances = random_mixture(rng, 3, 3)
    X = sample(rng, 700, weights, means, covariances)
    lower = np.linalg.cholesky(np.linalg.inv(covariances))  # P P^T = precision, P lower
    ll, _, _, _ = kernel.statistics_pass(X, np.log(weights), means, lower, means)
    assert ll == pytest.approx(reference(X, weights, means, covariances, means)[0], rel=1e-11)


def test_a_component_of_weight_zero_takes_no_points():
    rng = np.random.default_rng(3)
    weights, means, covariances = random_mixture(rng, 3, 2)
    X = sample(rng, 1000, weights, means, covariances)
    log_weights = np.log(weights)
    log_weights[1] = -np.inf
    P = precisions_cholesky(covariances)
    ll, nk, s1, s2 = kernel.statistics_pass(X, log_weights, means, P, means)
    assert nk[1] == 0 and np.all(s1[1] == 0) and np.all(s2[1] == 0)
    kept = [0, 2]
    w = weights[kept] / weights[kept].sum() * weights[kept].sum()  # the same log weights, one dropped
    ll_ref = reference(X, w, means[kept], covariances[kept], means[kept])[0]
    assert ll == pytest.approx(ll_ref, rel=1e-11)
    assert np.all(kernel.responsibilities_pass(X, log_weights, means, P)[1][:, 1] == 0)


def test_components_far_apart_underflow_to_exact_zero_responsibilities():
    """exp below e^-708 is flushed to 0: the sums are unaffected and nothing turns NaN."""
    X = np.array([[0.0, 0.0], [100.0, 0.0], [0.1, 0.2]])
    means = np.array([[0.0, 0.0], [100.0, 0.0]])
    covariances = np.broadcast_to(np.eye(2), (2, 2, 2)).copy()
    weights = np.array([0.5, 0.5])
    check_against_reference(X, weights, means, covariances, means)
    _, resp = kernel.responsibilities_pass(X, np.log(weights), means, precisions_cholesky(covariances))
    assert resp[0, 1] == 0.0 and resp[1, 0] == 0.0


def channels(argb):
    """(n, 3) red, green, blue of opaque ARGB32 pixels; asserts they are opaque."""
    argb = np.asarray(argb, dtype=np.uint32)
    assert np.all(argb >> np.uint32(24) == 0xFF)
    return np.stack([(argb >> np.uint32(s)) & np.uint32(0xFF) for s in (16, 8, 0)], axis=1).astype(int)


PALETTE = np.array([[0, 114, 178], [213, 94, 0], [0, 158, 115], [204, 121, 167], [230, 159, 0],
                    [86, 180, 233], [181, 159, 0]], dtype=float)


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("k", [1, 3, 7])
@pytest.mark.parametrize("n", SIZES)
def test_colours_are_the_mixed_colours_of_the_kernels_responsibilities(d, k, n):
    """colours_pass = gmm.mix_colours(responsibilities_pass): bit for bit, soft and hard."""
    from emviz import gmm

    rng = np.random.default_rng(1000 * d + 10 * k + n % 97)
    weights, means, covariances = random_mixture(rng, k, d, scale=0.6)  # overlapping: mixed colours
    X = sample(rng, n, weights, means, covariances)
    P = precisions_cholesky(covariances)
    rgb = PALETTE[:k]
    _, resp = kernel.responsibilities_pass(X, np.log(weights), means, P)
    for hard in (False, True):
        argb = kernel.colours_pass(X, np.log(weights), means, P, rgb, hard)
        assert argb.dtype == np.uint32 and argb.shape == (n,)
        np.testing.assert_array_equal(argb, gmm.mix_colours(np.ascontiguousarray(resp.T), rgb, hard=hard))
    # and against the scipy reference's responsibilities, mixed by hand: within one level
    resp_ref = reference(X, weights, means, covariances, means)[4]
    soft = channels(kernel.colours_pass(X, np.log(weights), means, P, rgb, False))
    assert np.abs(soft - np.clip(np.rint(resp_ref @ rgb), 0, 255)).max() <= 1
    hard = channels(kernel.colours_pass(X, np.log(weights), means, P, rgb, True))
    decided = np.sort(resp_ref, axis=1)[:, -1] - (np.sort(resp_ref, axis=1)[:, -2] if k > 1 else 0) > 1e-9
    np.testing.assert_array_equal(hard[decided], rgb[resp_ref.argmax(axis=1)][decided])


def test_colours_mix_an_undecided_point_and_never_pick_a_component_of_weight_zero():
    X = np.array([[0.0, 0.0], [-5.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    means = np.array([[-5.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    P = np.broadcast_to(np.eye(2), (3, 2, 2)).copy()
    log_weights = np.log([0.5, 0.5, 1e-300])
    log_weights[2] = -np.inf
    rgb = np.array([[255.0, 0.0, 0.0], [0.0, 0.0, 255.0], [0.0, 255.0, 0.0]])
    soft = channels(kernel.colours_pass(X, log_weights, means, P, rgb, False))
    # the point halfway between red and blue is half of each (127.5 rounds to even 128)
    np.testing.assert_array_equal(soft[0], [128, 0, 128])
    np.testing.assert_array_equal(soft[1], [255, 0, 0])
    np.testing.assert_array_equal(soft[2], [0, 0, 255])
    hard = channels(kernel.colours_pass(X, log_weights, means, P, rgb, True))
    np.testing.assert_array_equal(hard[0], [255, 0, 0])  # a tie: the first of equals, as numpy's argmax
    assert not np.any(np.all(hard == [0, 255, 0], axis=1))  # the green component has weight 0


def test_colours_refuse_a_palette_of_the_wrong_shape_or_range():
    X = np.zeros((3, 2))
    means = np.zeros((2, 2))
    P = np.broadcast_to(np.eye(2), (2, 2, 2)).copy()
    with pytest.raises(ValueError, match=r"rgb must have shape \(2, 3\)"):
        kernel.colours_pass(X, np.log([0.5, 0.5]), means, P, np.zeros((3, 3)), False)
    with pytest.raises(ValueError, match="0..255"):
        kernel.colours_pass(X, np.log([0.5, 0.5]), means, P, np.full((2, 3), 256.0), False)


def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(11)
    weights, means, covariances = random_mixture(rng, 5, 2)
    X = sample(rng, 5 * kernel.TASK + 17, weights, means, covariances)
    args = (X, np.log(weights), means, precisions_cholesky(covariances), means)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(kernel.statistics_pass(*args))
    finally:
        numba.set_num_threads(before)
    for other in results[1:]:
        assert other[0] == results[0][0]
        for a, b in zip(other[1:], results[0][1:]):
            np.testing.assert_array_equal(a, b)


def test_exponential_within_two_ulp_of_libm():
    x = np.concatenate([-np.linspace(0, 708, 200_001), [-1e-300, -5e-324, -0.0, -707.9999]])
    row = x.copy()
    total = np.zeros_like(x)
    t = np.empty_like(x)
    shifted = np.empty_like(x)
    kernel._exp_add(row, np.zeros_like(x), total, t, shifted, shifted.view(np.int64), x.size)
    expected = np.exp(x)
    ulps = np.abs(row - expected) / np.spacing(expected)
    assert ulps.max() <= 2
    np.testing.assert_array_equal(total, row)
    below = np.array([-708.5, -745.0, -800.0, -np.inf])
    row = below.copy()
    kernel._exp_add(row, np.zeros(4), np.zeros(4), np.empty(4), t[:4], t[:4].view(np.int64), 4)
    np.testing.assert_array_equal(row, 0.0)


def test_logarithm_within_two_ulp_of_libm():
    s = np.concatenate([np.geomspace(1.0, 1e6, 100_003), [1.0, np.nextafter(1.0, 2.0), 2.0, np.sqrt(2.0)]])
    m = np.linspace(-50, 50, s.size)
    out = np.empty_like(s)
    f = np.empty_like(s)
    e = np.empty_like(s)
    kernel._log_at_least_one(s, s.view(np.int64), np.zeros_like(s), out, f, f.view(np.int64), e, e.view(np.int64), s.size)
    expected = np.log(s)
    ulps = np.abs(out - expected) / np.spacing(np.maximum(expected, np.finfo(float).tiny))
    assert ulps.max() <= 2
    kernel._log_at_least_one(s, s.view(np.int64), m, out, f, f.view(np.int64), e, e.view(np.int64), s.size)
    np.testing.assert_allclose(out, m + expected, rtol=1e-15, atol=1e-13)
    odd = np.array([0.0, np.nan, 0.5])  # not sums of exponentials whose largest is 1: libm's answer
    out = np.empty(3)
    kernel._log_at_least_one(odd, odd.view(np.int64), np.zeros(3), out, f[:3], f[:3].view(np.int64), e[:3], e[:3].view(np.int64), 3)
    assert out[0] == -np.inf and np.isnan(out[1]) and out[2] == np.log(0.5)


def test_frozen_and_writable_arrays_share_one_compiled_version():
    """Read-only is part of numba's array type: a second version would be compiled in the
    caller's thread, blocking it, the first time gmm passed its frozen arrays."""
    rng = np.random.default_rng(2)
    weights, means, covariances = random_mixture(rng, 2, 2)
    X = sample(rng, 300, weights, means, covariances)
    P = precisions_cholesky(covariances)
    before = len(kernel._statistics_tasks.signatures), len(kernel._responsibilities_tasks.signatures)
    results = []
    for frozen in (False, True):
        arrays = [a.copy() for a in (X, np.log(weights), means, P)]
        for a in arrays:
            a.flags.writeable = not frozen
        results.append(kernel.statistics_pass(*arrays, arrays[2]))
        kernel.responsibilities_pass(*arrays)
    after = len(kernel._statistics_tasks.signatures), len(kernel._responsibilities_tasks.signatures)
    assert after == before == (1, 1)
    assert results[0][0] == results[1][0]


def test_mismatched_shapes_are_refused_with_the_shapes_named():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        kernel.statistics_pass(X, np.zeros(3), np.zeros((3, 3)), np.zeros((3, 3, 3)), np.zeros((3, 3)))


def run_python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        check=True,
    ).stdout


def test_importing_emviz_does_not_import_numba():
    """numba is imported by the background build, never on the way to the first window."""
    out = run_python(
        """
        import sys
        import emviz.kernel, emviz.gmm, emviz.session
        print("numba" in sys.modules, emviz.kernel.ready())
        """
    )
    assert out.split() == ["False", "False"]


def test_turned_off_by_the_environment():
    out = run_python(
        """
        from emviz import kernel
        print(kernel.wait(), kernel.ready())
        print(kernel.failure())
        """,
        EMVIZ_NUMBA="0",
    )
    lines = out.splitlines()
    assert lines[0] == "False False"
    assert "EMVIZ_NUMBA" in lines[1]


# --------------------------------------------------------------------------- inside gmm

from emviz import gmm  # noqa: E402

COVARIANCES = ("full", "diag", "spherical", "tied")


@pytest.mark.parametrize("covariance", COVARIANCES)
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_em_with_the_kernel_follows_the_numpy_reference(covariance, d, monkeypatch):
    rng = np.random.default_rng(d)
    weights, means, covariances = random_mixture(rng, 3, d)
    X = sample(rng, kernel.TASK * 4 + 101, weights, means, covariances)  # the parallel branch
    start = gmm.initialize(X, 3, seed=1)
    runs = {}
    for name, passes in (("numpy", gmm.NUMPY_PASSES), ("kernel", kernel)):
        monkeypatch.setattr(gmm, "_passes", passes)
        runs[name] = list(gmm.em(X, start, tol=0, max_iter=15, covariance=covariance))
    ll_numpy = [s.log_likelihood for s in runs["numpy"]]
    ll_kernel = [s.log_likelihood for s in runs["kernel"]]
    np.testing.assert_allclose(ll_kernel, ll_numpy, rtol=1e-9, atol=0)
    last_numpy, last_kernel = runs["numpy"][-1].mixture, runs["kernel"][-1].mixture
    np.testing.assert_allclose(last_kernel.means, last_numpy.means, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(last_kernel.covariances, last_numpy.covariances, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(last_kernel.weights, last_numpy.weights, rtol=1e-9, atol=1e-12)


def test_gmm_runs_on_the_kernel_once_ready_and_on_numpy_before(monkeypatch):
    rng = np.random.default_rng(4)
    weights, means, covariances = random_mixture(rng, 2, 2)
    X = sample(rng, 500, weights, means, covariances)
    mixture = gmm.initialize(X, 2, seed=0)
    monkeypatch.setattr(gmm, "_passes", gmm._KernelOnceReady())  # what the program runs
    calls = []
    monkeypatch.setattr(kernel, "statistics_pass", lambda *a: calls.append("kernel") or gmm.statistics_pass(*a))
    monkeypatch.setattr(gmm.NUMPY_PASSES, "statistics_pass", lambda *a: calls.append("numpy") or gmm.statistics_pass(*a))
    gmm.Evaluator(X).statistics(mixture)
    monkeypatch.setattr(kernel, "ready", lambda: False)
    gmm.Evaluator(X).statistics(mixture)
    assert calls == ["kernel", "numpy"]


def test_without_numba_gmm_gives_the_kernels_numbers(monkeypatch):
    """EMVIZ_NUMBA=0 in a fresh process: numpy passes only, the same fit to 1e-9."""
    code = """
        import numpy as np
        from emviz import gmm, kernel
        from emviz.data import generate
        X = generate(20000, 3, separation=2.0, seed=3).points
        result = gmm.fit(X, 3, seed=0, tol=0, max_iter=20)
        print(kernel.ready(), repr([s.log_likelihood for s in result.history]))
    """
    numpy_out = run_python(code, EMVIZ_NUMBA="0").split(" ", 1)
    assert numpy_out[0] == "False"
    from emviz.data import generate

    X = generate(20000, 3, separation=2.0, seed=3).points
    assert kernel.ready()
    monkeypatch.setattr(gmm, "_passes", gmm._KernelOnceReady())  # what the program runs
    result = gmm.fit(X, 3, seed=0, tol=0, max_iter=20)
    np.testing.assert_allclose([s.log_likelihood for s in result.history], eval(numpy_out[1]), rtol=1e-9)


def test_evaluator_colours_agree_on_the_kernel_and_numpy_passes(monkeypatch):
    """What the window draws: the same colours from either engine (within one level where a
    channel's mix lands on .5), for all points and for a few rows."""
    rng = np.random.default_rng(21)
    weights, means, covariances = random_mixture(rng, 4, 2, scale=0.5)
    X = sample(rng, kernel.TASK * 4 + 101, weights, means, covariances)  # the parallel branch
    mixture = gmm.initialize(X, 4, seed=2)
    evaluator = gmm.Evaluator(X)
    rgb = PALETTE[:4]
    rows = np.array([5, 0, len(X) - 1, 77])
    for hard in (False, True):
        got = {}
        for name, passes in (("numpy", gmm.NUMPY_PASSES), ("kernel", kernel)):
            monkeypatch.setattr(gmm, "_passes", passes)
            got[name] = evaluator.colours(mixture, rgb, hard=hard)
            np.testing.assert_array_equal(evaluator.colours(mixture, rgb, hard=hard, rows=rows), got[name][rows])
        differ = np.abs(channels(got["numpy"]) - channels(got["kernel"]))
        assert differ.max() <= 1 and (differ.max(axis=1) > 0).mean() < 1e-3
        if not hard:  # a real mix: many colours, not only the k pure ones
            assert len(np.unique(got["kernel"])) > 50
    with pytest.raises(ValueError, match=r"rgb must have shape \(4, 3\)"):
        evaluator.colours(mixture, rgb[:3])


def test_bin_colours_is_numpys_bincount_exactly():
    rng = np.random.default_rng(9)
    size = 1000
    flat = rng.integers(0, size, 50_000).astype(np.intp)
    flat[:100] = 7  # one busy pixel
    argb = (np.uint32(0xFF000000) | rng.integers(0, 1 << 24, flat.size).astype(np.uint32)).astype(np.uint32)
    counts, sums = kernel.bin_colours(flat, argb, size)
    np.testing.assert_array_equal(counts, np.bincount(flat, minlength=size))
    for channel, shift in enumerate((16, 8, 0)):
        weights = ((argb >> np.uint32(shift)) & np.uint32(0xFF)).astype(float)
        np.testing.assert_array_equal(sums[channel], np.bincount(flat, weights, minlength=size))
    empty_counts, empty_sums = kernel.bin_colours(np.empty(0, np.intp), np.empty(0, np.uint32), 5)
    assert empty_counts.shape == (5,) and not empty_counts.any() and empty_sums.shape == (3, 5)
    with pytest.raises(ValueError, match=r"0\.\.999"):
        kernel.bin_colours(np.array([1000]), np.array([0xFF000000], dtype=np.uint32), size)
    with pytest.raises(ValueError, match="one length"):
        kernel.bin_colours(np.array([1, 2]), np.array([0xFF000000], dtype=np.uint32), size)


def test_density_image_is_the_same_from_the_kernel_and_from_numpy(monkeypatch):
    from emviz.ui import pointdensity

    rng = np.random.default_rng(10)
    w, h = 64, 48
    flat = rng.integers(0, w * h // 2, 20_000).astype(np.intp)
    argb = (np.uint32(0xFF000000) | rng.integers(0, 1 << 24, flat.size).astype(np.uint32)).astype(np.uint32)
    image, counts = pointdensity.density_image(flat, argb, w, h)
    monkeypatch.setattr(kernel, "ready", lambda: False)
    image_numpy, counts_numpy = pointdensity.density_image(flat, argb, w, h)
    np.testing.assert_array_equal(image, image_numpy)
    np.testing.assert_array_equal(counts, counts_numpy)
    assert len(np.unique(image)) > 100  # a real picture, not a blank one


def test_leave_a_core_sets_the_calling_threads_count_only():
    import threading

    cores = os.cpu_count() or 1
    wanted = max(1, min(numba.config.NUMBA_NUM_THREADS, cores - 1))
    before = numba.get_num_threads()
    seen = {}

    def worker():
        kernel.leave_a_core()
        seen["worker"] = numba.get_num_threads()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["worker"] == wanted
    assert numba.get_num_threads() == before  # this thread keeps its own setting
