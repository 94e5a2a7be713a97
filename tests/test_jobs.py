"""The job runner: any job that yields results, in a thread, with progress, pause, stop and errors."""

import itertools

from PySide6.QtCore import Qt

from emviz.jobs import Job, JobRunner, JobWorker


def run_here(job, budget, token=3):
    """The worker's loop in this thread, every signal collected."""
    worker = JobWorker(job, budget, 0.0, token)
    seen = {"result": [], "progressed": [], "failed": [], "finished": []}
    for name, got in seen.items():
        getattr(worker, name).connect(got.append, Qt.ConnectionType.DirectConnection)
    worker.work()
    return seen


def test_the_job_says_when_it_is_done():
    pulled = []

    def sweep():
        for k in (1, 2, 3, 4):
            pulled.append(k)
            yield {"k": k, "bic": 100.0 - k}

    seen = run_here(Job(sweep(), total=4, is_last=lambda fit: fit["k"] == 3), 10)
    assert [r["k"] for _, r in seen["result"]] == [1, 2, 3]
    assert pulled == [1, 2, 3]  # ended at the result the job called its last, without pulling on
    assert seen["progressed"] == [(3, 1, 4), (3, 2, 4), (3, 3, 4)]
    assert seen["finished"] == [(3, "done")] and seen["failed"] == []
    seen = run_here(iter("ab"), 10)  # a plain iterator is a job that is done when it runs out
    assert [r for _, r in seen["result"]] == ["a", "b"] and seen["finished"] == [(3, "done")]
    assert seen["progressed"][-1] == (3, 2, None)


def test_budget_failure_and_pause():
    numbers = itertools.count()
    seen = run_here(numbers, 2)
    assert [r for _, r in seen["result"]] == [0, 1] and seen["finished"] == [(3, "budget")]
    assert next(numbers) == 2  # the job carries on where the budget stopped it

    def failing():
        yield 1
        raise ValueError("boom")

    seen = run_here(failing(), 10)
    assert seen["failed"] == [(3, "boom")] and seen["finished"] == [(3, "failed")]
    worker = JobWorker(itertools.count(), 10, 0.0, 1)
    worker.request_pause()
    ends = []
    worker.finished.connect(ends.append, Qt.ConnectionType.DirectConnection)
    worker.work()
    assert ends == [(1, "paused")]


def test_the_runner_in_its_thread(qtbot):
    runner = JobRunner()
    results, progress, reasons, failures = [], [], [], []
    runner.result.connect(results.append)
    runner.progressed.connect(lambda done, total: progress.append((done, total)))
    runner.finished.connect(reasons.append)
    runner.failed.connect(failures.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        assert runner.start(Job(iter(range(5)), total=5, name="sweep"), 10)
        assert not runner.start(iter(range(3)), 1)  # one job at a time
    assert results == [0, 1, 2, 3, 4] and reasons == ["done"] and progress[-1] == (5, 5)
    assert not runner.running and runner._thread is None

    def failing():
        yield "first"
        raise RuntimeError("the sweep's fit at k=7 failed")

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(failing(), 10)
    assert failures == ["the sweep's fit at k=7 failed"] and reasons[-1] == "failed"


def test_pause_and_stop_in_a_running_thread_drop_nothing_and_leak_nothing(qtbot):
    runner = JobRunner()
    runner.set_interval(0.01)
    results, reasons = [], []
    runner.result.connect(results.append)
    runner.finished.connect(reasons.append)
    numbers = itertools.count()
    runner.start(numbers, 10**6)
    qtbot.waitUntil(lambda: len(results) >= 3, timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.pause()
    assert reasons == ["paused"] and results == list(range(len(results)))
    runner.start(numbers, 10**6)  # resumes with the next result
    qtbot.waitUntil(lambda: len(results) >= len(reasons) + 6, timeout=5000)
    thread = runner._thread
    assert runner.stop() and thread.isFinished() and runner._thread is None
    count = len(results)
    qtbot.wait(100)  # anything the stopped worker still had queued is dropped
    assert len(results) == count and reasons == ["paused", "stopped"]
    assert results == list(range(count))
