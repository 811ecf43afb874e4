"""asyncio_bench.py — the C benchmarks' workloads in Python's asyncio.

    python3 bench/asyncio_bench.py [--uvloop] fanout N LIMIT
    python3 bench/asyncio_bench.py [--uvloop] order gather|as_completed N
    python3 bench/asyncio_bench.py [--uvloop] offload N DEPTH
    python3 bench/asyncio_bench.py [--uvloop] server INFLIGHT QUEUED WORK_MS

Optional: tools/bench.sh runs it when python3 is there (and with --uvloop
when uvloop imports), and notes it when not. The project itself needs no
Python. Each command prints one line in the C programs' format (bench/bench.h,
BENCH_COLUMNS), the variant being "asyncio" or "uvloop" (with the C variant's
name after a dash where there are several).

The operation is the C benchmarks' zero-delay job: a future that the loop
completes on a later turn (loop.call_soon), the closest thing asyncio has to
ap_soon. fanout is the chapter's fetch_all: a semaphore, one coroutine per
item, gather over them all.

server is chapter 07's line server (solutions/07-server-side/srv.h) as
asyncio writes it, for the overload generator (bench/overload.c), which
measures it from outside: it prints its port and serves until SIGTERM.
"""
import asyncio
import concurrent.futures
import resource
import signal
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


# Chapter 07's server: the limits srvd.c gives lab 07's (seconds; a line with its newline).
IDLE_S, REQUEST_S, DRAIN_S, LINE_MAX = 2, 10, 1, 1024


def blocking_work(line, seconds):
    time.sleep(seconds)
    return b"done"


class LineServer:
    """srv.h's protocol: one request per line, one answer line each, in order;
    BUSY at once when max_inflight run and max_queued wait."""

    def __init__(self, inflight, queued, work_ms):
        self.sem = asyncio.Semaphore(inflight)
        self.max_queued, self.queued = queued, 0
        self.work_s = work_ms / 1000
        self.idle = {}  # a connection's task -> True while it waits for a line

    async def answer(self, line):
        if self.sem.locked() and self.queued >= self.max_queued:
            return b"BUSY\n"  # load shedding: refused at once
        self.queued += 1
        waiting = True
        try:
            async with asyncio.timeout(REQUEST_S):
                async with self.sem:
                    self.queued, waiting = self.queued - 1, False
                    text = await asyncio.to_thread(blocking_work, line, self.work_s)
            return text + b"\n"
        except TimeoutError:
            return b"ERR timeout\n"
        except Exception:
            return b"ERR failed\n"
        finally:
            if waiting:
                self.queued -= 1

    async def client(self, reader, writer):
        task = asyncio.current_task()
        writer.transport.set_write_buffer_limits(high=64 * 1024, low=16 * 1024)
        try:
            while True:
                self.idle[task] = True
                async with asyncio.timeout(IDLE_S):
                    line = await reader.readline()
                self.idle[task] = False
                if not line.endswith(b"\n"):
                    break  # the peer is done
                writer.write(await self.answer(line))
                await writer.drain()  # write backpressure
        except ValueError:  # no newline in LINE_MAX bytes
            writer.write(b"ERR too long\n")
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            del self.idle[task]
            writer.close()

    async def serve(self):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = await asyncio.start_server(
            self.client, "127.0.0.1", 0, backlog=128, limit=LINE_MAX
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop.wait()
        server.close()
        await server.wait_closed()
        # Connections waiting for a line close now; requests in flight get DRAIN_S.
        for task, idle in list(self.idle.items()):
            if idle:
                task.cancel()
        if self.idle:
            await asyncio.wait(list(self.idle), timeout=DRAIN_S)


async def server(inflight, queued, work_ms):
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(4))  # lab 07's POOL
    await LineServer(inflight, queued, work_ms).serve()


def main(argv):
    use_uvloop = argv[:1] == ["--uvloop"]
    if use_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        argv = argv[1:]
    name = "uvloop" if use_uvloop else "asyncio"
    bench = argv[0]
    if bench == "server":
        asyncio.run(server(*(int(a) for a in argv[1:4])))
        return
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
        sys.exit("usage: asyncio_bench.py [--uvloop] fanout|order|offload|server ...")
    wall0, cpu0 = time.perf_counter_ns(), time.process_time_ns()
    asyncio.run(work)
    wall, cpu = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{bench},{variant},{param},{n},{wall},{wall / n:.2f},{cpu},{cpu / n:.2f},{rss}")


if __name__ == "__main__":
    main(sys.argv[1:])
