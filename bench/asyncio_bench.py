"""asyncio_bench.py — the C benchmarks' workloads in Python's asyncio.

    python3 bench/asyncio_bench.py [--uvloop] fanout N LIMIT
    python3 bench/asyncio_bench.py [--uvloop] order gather|as_completed N
    python3 bench/asyncio_bench.py [--uvloop] offload N DEPTH

Optional: tools/bench.sh runs it when python3 is there (and with --uvloop
when uvloop imports), and notes it when not. The project itself needs no
Python. Each command prints one line in the C programs' format (bench/bench.h,
BENCH_COLUMNS), the variant being "asyncio" or "uvloop" (with the C variant's
name after a dash where there are several).

The operation is the C benchmarks' zero-delay job: a future that the loop
completes on a later turn (loop.call_soon), the closest thing asyncio has to
ap_soon. fanout is the chapter's fetch_all: a semaphore, one coroutine per
item, gather over them all.
"""
import asyncio
import resource
import sys
import time


def zero_delay(loop, value):
    fut = loop.create_future()
    loop.call_soon(fut.set_result, value)
    return fut


async def fanout(n, limit):
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(limit)

    async def one(item):
        async with sem:
            return await zero_delay(loop, item)

    results = await asyncio.gather(*(one(i) for i in range(n)))
    assert results[-1] == n - 1


async def order(variant, n):
    loop = asyncio.get_running_loop()
    futs = [zero_delay(loop, i) for i in range(n)]
    if variant == "gather":
        results = await asyncio.gather(*futs)
        assert results[-1] == n - 1
    else:
        k = 0
        for fut in asyncio.as_completed(futs):
            await fut
            k += 1
        assert k == n


def tiny(value):
    return value


async def offload(n, depth):
    left = [n]

    async def worker():
        while left[0] > 0:
            left[0] -= 1
            value = left[0]
            assert await asyncio.to_thread(tiny, value) == value

    await asyncio.gather(*(worker() for _ in range(min(depth, n))))


def main(argv):
    use_uvloop = argv[:1] == ["--uvloop"]
    if use_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        argv = argv[1:]
    name = "uvloop" if use_uvloop else "asyncio"
    bench = argv[0]
    if bench == "fanout":
        n, param = int(argv[1]), int(argv[2])
        variant, work = name, fanout(n, param)
    elif bench == "order":
        n, param = int(argv[2]), 0
        variant, work = name + "-" + argv[1], order(argv[1], n)
    elif bench == "offload":
        n, param = int(argv[1]), int(argv[2])
        variant, work = name, offload(n, param)
    else:
        sys.exit("usage: asyncio_bench.py [--uvloop] fanout|order|offload ...")
    wall0, cpu0 = time.perf_counter_ns(), time.process_time_ns()
    asyncio.run(work)
    wall, cpu = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{bench},{variant},{param},{n},{wall},{wall / n:.2f},{cpu},{cpu / n:.2f},{rss}")


if __name__ == "__main__":
    main(sys.argv[1:])
